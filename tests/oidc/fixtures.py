"""Pytest fixtures around tests/oidc/harness.py. A test module takes them by importing them:

    from tests.oidc.fixtures import oidc_app, oidc_provider  # noqa: F401  (pytest fixtures)

    def test_x(page, oidc_app):
        url = oidc_app(ROOT / "app.py", env_extra={...})   # a running app, signed up with the provider
        ...

(tests/conftest.py lists its fixture modules in pytest_plugins; this one is imported instead, so
only the tests that sign in start Node.)
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest

from .harness import OidcProvider, running_streamlit, start_provider


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory) -> OidcProvider:
    """The OIDC provider on 127.0.0.1 for the whole session: .issuer, .client_id, .client_secret,
    .metadata_url. Its log (one line a request, and any errors) is .log_path."""
    provider = start_provider(tmp_path_factory.mktemp("oidc") / "provider.log")
    yield provider
    provider.stop()


@pytest.fixture
def oidc_app(oidc_provider, tmp_path_factory) -> Callable[..., str]:
    """A function that starts `streamlit run SCRIPT` on 127.0.0.1 with an [auth] secrets file for
    oidc_provider (passed as --secrets.files) and returns its URL; every app it started is stopped
    when the test ends."""
    with ExitStack() as stack:
        def start(script: Path, env_extra: dict[str, str] | None = None) -> str:
            directory = tmp_path_factory.mktemp("oidc-app")
            return stack.enter_context(running_streamlit(Path(script), oidc_provider, directory,
                                                         env_extra=env_extra))

        yield start
