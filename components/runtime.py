"""Streamlit's own hot paths under many sessions at once.

Every element a page draws reads a config option (`streamlit.config.get_option`, for the
message-size limit of its hash), and each read takes one process-wide lock. With 50 phones
rating at once their script threads queued on that lock: py-spy found 2,405 of 11,388 samples
(21%) of the app's threads waiting there, more than on the database. The read itself needs no
lock once the options are parsed: the options dict is only replaced, or its values set one at a
time, and a dict read is atomic in CPython. So reads go to the parsed options directly and fall
back to Streamlit's locked path when an option is missing (not yet parsed, or mid-reparse after
a config file changed).

Streamlit's maintainers suggested the same lock-free read when the lock was added
(streamlit/streamlit#2860); it has not been done upstream as of 1.67."""
from __future__ import annotations

from streamlit import config

_MARK = "_pcn_lock_free"


def lock_free_config_reads() -> None:
    """Install the lock-free read (once per process)."""
    if getattr(config.get_option, _MARK, False):
        return
    if config.get_option("global.appTest"):  # AppTest patches get_option for its run: leave it be
        return
    locked = config.get_option

    def get_option(key: str):
        options = config._config_options
        option = options.get(key) if options is not None else None
        if option is None:
            return locked(key)
        return option.value

    get_option.__doc__ = locked.__doc__
    setattr(get_option, _MARK, True)
    config.get_option = get_option


# Python's collector walks every tracked object at each full collection. In the app process that
# is Streamlit, plotly, pandas and the pages' modules: about 200,000 objects, 0.4 s a time on this
# 2-core machine, and every session waits while it runs (a rating on its way to the projector
# included). Frozen once the modules are loaded, they are never walked again: a full collection
# then costs about 20 ms. Objects made later (sessions, caches) are collected as usual.
_frozen = False


def freeze_startup_objects() -> None:
    """Load what the pages use, then move everything alive into the collector's permanent
    generation (once per process; not under AppTest, whose objects belong to the test)."""
    global _frozen
    if _frozen or config.get_option("global.appTest"):
        return
    _frozen = True
    import gc
    import importlib

    for name in ("pandas", "plotly.graph_objects", "figures.charts", "figures.workshop", "components.assessment",
                 "components.facilitator", "components.participant", "components.plan_tabs"):
        try:
            importlib.import_module(name)
        except ImportError:  # a module renamed: it is simply not frozen
            continue
    import plotly.graph_objects as go

    go.Figure([go.Scatter(x=[0]), go.Scatterpolar(r=[0]), go.Bar(x=[0])])  # plotly loads its validators lazily
    gc.collect()
    gc.freeze()
