"""Shared pytest set-up. Fixtures live in their own modules, listed here."""
import os
import tempfile
from pathlib import Path

import pytest

# No test may touch a developer's data/pcn.db: anything that opens the default store without
# its own URL lands in a throwaway folder instead.
os.environ["PCN_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='pcn-tests-')}/default.db"
os.environ.pop("PCN_MATRIX_DIR", None)

pytest_plugins = ["store_fixtures", "app_fixtures"]


# One Playwright for the whole run: its sync API cannot start while another instance runs in the
# same process, so the browser tests and the deployed tests share this browser.
@pytest.fixture(scope="session")
def browser():
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run the README's test command, which installs Debian's chromium.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
