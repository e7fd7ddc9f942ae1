"""components/runtime.py: Streamlit's config read without its lock gives the same answers."""
from __future__ import annotations

import pytest
from streamlit import config

from components.runtime import lock_free_config_reads


def test_every_option_reads_the_same_without_the_lock():
    config.get_config_options()  # parsed, as in a running app
    before = {key: config.get_option(key) for key in config._config_options}
    lock_free_config_reads()
    lock_free_config_reads()  # once per process: a second call changes nothing
    assert getattr(config.get_option, "_pcn_lock_free", False)
    assert {key: config.get_option(key) for key in before} == before
    assert config.get_option("runner.postScriptGC") is False  # the project's .streamlit/config.toml


def test_a_value_set_later_is_seen_and_an_unknown_option_is_refused_as_before():
    lock_free_config_reads()
    old = config.get_option("client.showErrorDetails")
    try:
        config.set_option("client.showErrorDetails", "none")
        assert config.get_option("client.showErrorDetails") == "none"
    finally:
        config.set_option("client.showErrorDetails", old)
    with pytest.raises(RuntimeError, match="not defined"):
        config.get_option("no.suchOption")
