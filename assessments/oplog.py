"""The operator's log: one line per change and per sign-in, on standard error, for whoever runs
the server (journald keeps it under systemd).

    time=2025-06-02T09:14:03.512Z pid=4127 level=INFO event=change who=3f9c2a role=pcn-lead
        action=update entity=rating key=12/data-risk-stratification fields=current_stage,note

(one line; wrapped here; `action` is add, remove or update, see `action_of`). The change log in
the database holds the values and the names; this log holds none of them, so it can be kept and
shipped where personal data may not go. `who` is the principal's sign-in subject, or, when the
subject carries an e-mail, a login name or a device's address, `~` and the first 12 hex digits of
its sha256 (the subject is the change log's `actor_subject`, so an administrator can match them);
key segments holding an e-mail are hashed the same way; `fields` are the names of the fields
changed, never their values. A transaction that changes more than `MAX_LINES_PER_COMMIT` records
(an import) gets one line per entity with `records=N` instead; a restore and a bulk load of
generated data, which write past the unit of work, get one line each (`bulk`) with the rows per
table.

The logger is "pcn", with its own handler and no propagation, so Streamlit's loggers (which keep
their own handlers) and the root logger are left as they were. PCN_LOG_LEVEL sets its level
(default INFO; WARNING and above silence the change lines).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from .access import ADMINISTRATOR

ENV_LEVEL = "PCN_LOG_LEVEL"
LOGGER_NAME = "pcn"
MAX_LINES_PER_COMMIT = 50

# Subjects that name a person: a sign-in proxy's (the e-mail or name it sent), the laptop's login
# name, a command-line name, a device's address. An OpenID Connect subject is an opaque id.
_PERSONAL_PREFIXES = ("proxy:", "laptop:", "local:", "device:")
_BARE = re.compile(r"[A-Za-z0-9_.:/@+~-]+")


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (pytest and Streamlit may swap it)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass

    def handle(self, record: logging.LogRecord) -> bool:
        """Formats outside any lock and writes the line in one call (the stream keeps it whole).
        logging's own handle() holds the handler's lock while formatting and writing, and with 50
        phones rating at once their threads queued there (py-spy: 3,423 of 15,000 samples)."""
        if not self.filter(record):
            return False
        try:
            text = self.format(record) + self.terminator
            self.stream.write(text)
        except Exception:  # as logging does: a broken stream never breaks a save
            self.handleError(record)
        return True


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return f"time={at} pid={record.process} level={record.levelname} {record.getMessage()}"


def configure() -> logging.Logger:
    """The operator's logger, set up on first use in each process (later calls change nothing)."""
    logger = logging.getLogger(LOGGER_NAME)
    if getattr(logger, "pcn_configured", False):
        return logger
    wanted = os.environ.get(ENV_LEVEL, "").strip().upper() or "INFO"
    level = logging.getLevelName(wanted)
    handler = _Stderr()
    handler.setFormatter(_Format())
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(level if isinstance(level, int) else logging.INFO)
    logger.pcn_configured = True  # type: ignore[attr-defined]
    if not isinstance(level, int):
        logger.warning(line("config", problem=f"{ENV_LEVEL}={wanted} is not a level (use DEBUG, INFO, WARNING, "
                                              "ERROR); using INFO"))
    return logger


def value(text: object) -> str:
    """A value as the line shows it: bare if it is simple, else quoted with escapes, so a line
    is always one line and splits unambiguously on spaces."""
    s = str(text)
    if s and _BARE.fullmatch(s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def line(event: str, **fields: object) -> str:
    parts = [f"event={value(event)}"]
    parts += [f"{k}={value(v)}" for k, v in fields.items() if v is not None]
    return " ".join(parts)


def pseudonym(text: str) -> str:
    return "~" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def who(subject: str | None) -> str:
    """The subject as the log names it: itself when it is an opaque id, else its pseudonym."""
    if not subject:
        return "unknown"
    if subject == "system":
        return subject
    if "@" in subject or subject.startswith(_PERSONAL_PREFIXES):
        return pseudonym(subject)
    return subject


def key_text(entity: str, key: str) -> str:
    """A record's key with any personal part hashed (a sign-in's key is the subject; a role's
    key starts with the e-mail)."""
    if entity == "sign_in":
        return who(key)
    return "/".join(pseudonym(part) if "@" in part else part for part in str(key).split("/"))


def event(name: str, *, level: int = logging.INFO, **fields: object) -> None:
    logger = configure()
    if logger.isEnabledFor(level):
        logger.log(level, line(name, **fields))


def bulk(name: str, store, counts: Mapping[str, int], **fields: object) -> None:
    """One line for a committed load that bypasses the unit of work (a restore, generated data):
    who, the rows in all and per table (`tables=audit_log:5031,pcn:8`), never a value.

        event=restore who=system role=administrator records=5039 tables=audit_log:5031,ics:1,pcn:8
    """
    principal = getattr(store, "principal", None)  # a restore is for administrators (exchange.restore checks)
    admin = principal is not None and principal.is_admin
    event(name, who=who(getattr(principal, "subject", None)), role=ADMINISTRATOR if admin else None,
          records=sum(counts.values()), tables=",".join(f"{t}:{n}" for t, n in counts.items() if n) or "none",
          **fields)


def action_of(all_before_empty: bool, all_after_empty: bool) -> str:
    """What the change log's rows of one record say happened: `add` (every field named was empty
    before: a new record, or fields filled in for the first time), `remove` (every one is empty
    now: a deleted record, or fields cleared), else `update`."""
    return "add" if all_before_empty else "remove" if all_after_empty else "update"


def commit(*, subject: str | None, role: str | None,
           changes: Mapping[tuple[str, str], tuple[str, Iterable[str]]]) -> None:
    """Log a committed transaction: `changes` maps (entity, key) to (action, field names)."""
    logger = configure()
    if not changes or not logger.isEnabledFor(logging.INFO):
        return
    actor = who(subject)
    if len(changes) > MAX_LINES_PER_COMMIT:
        per_entity: dict[str, tuple[int, set[str], set[str]]] = {}
        for (entity, _key), (action, fields) in changes.items():
            n, actions, names = per_entity.get(entity, (0, set(), set()))
            per_entity[entity] = (n + 1, actions | {action}, names | set(fields))
        for entity, (n, actions, names) in per_entity.items():
            logger.info(line("change", who=actor, role=role, action=",".join(sorted(actions)), entity=entity,
                             records=n, fields=",".join(sorted(names))))
        return
    for (entity, key), (action, fields) in changes.items():
        logger.info(line("sign-in" if entity == "sign_in" else "change", who=actor, role=role, action=action,
                         entity=entity, key=key_text(entity, key), fields=",".join(sorted(fields))))


__all__ = ["ENV_LEVEL", "LOGGER_NAME", "MAX_LINES_PER_COMMIT", "action_of", "bulk", "commit", "configure", "event",
           "key_text", "line", "pseudonym", "who"]
