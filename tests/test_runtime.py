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


FREEZE = """
import gc, sys, time
from streamlit import config
config.get_config_options()
if sys.argv[1] == "apptest":
    config.set_option("global.appTest", True)
from components.runtime import freeze_startup_objects
freeze_startup_objects()
frozen = gc.get_freeze_count()
freeze_startup_objects()  # once per process
t = time.perf_counter()
gc.collect()
print(frozen, gc.get_freeze_count(), "plotly.graph_objects" in sys.modules, len(gc.get_objects()))
"""


def test_the_loaded_modules_are_frozen_out_of_the_collectors_walk_once_but_not_under_apptest():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]

    def run(mode: str) -> list[str]:
        out = subprocess.run([sys.executable, "-c", FREEZE, mode], cwd=root, capture_output=True, text=True,
                             timeout=300, check=True)
        return out.stdout.split()

    frozen, again, loaded, tracked = run("app")
    assert int(frozen) > 100_000 and again == frozen and loaded == "True"
    assert int(tracked) < int(frozen) / 2  # what a full collection still walks
    frozen, _again, _loaded, _tracked = run("apptest")
    assert int(frozen) == 0
