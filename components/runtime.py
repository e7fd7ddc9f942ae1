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
