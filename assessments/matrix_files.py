"""Adding a matrix (or pathway, or reference) YAML file to the user's matrix folder: administrators
only, because a file there can replace the matrix every PCN is rated against. The change log says
who added which file."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from matrix import MatrixFileError, load_text
from matrix.loader import ENV_DIR

from . import guard
from .access import ADMINISTER
from .values import DuplicateError, InputError


def user_folder() -> Path | None:
    """The first folder PCN_MATRIX_DIR names (where files are added), or None."""
    first = os.environ.get(ENV_DIR, "").split(os.pathsep)[0].strip()
    return Path(first).expanduser() if first else None


def add_matrix_file(store, name: str, data: bytes, *, by: str | None = None) -> Path:
    """Check the file, then save it under its own name in the user folder. Refuses a bad file
    (with its problems), an existing name, or a principal who is not an administrator."""
    guard.check(store, ADMINISTER)
    folder = user_folder()
    if folder is None:
        raise InputError(f"no folder to add files to: set {ENV_DIR}")
    safe = Path(name).name
    if not safe.endswith((".yaml", ".yml")):
        raise InputError("only .yaml or .yml files can be added")
    try:
        doc = load_text(data, safe)
    except MatrixFileError as exc:
        raise InputError(f"{safe} is not valid: " + "; ".join(str(p) for p in exc.problems[:5])) from None
    target = folder / safe
    if target.exists():
        raise DuplicateError(f"{target} already exists")
    folder.mkdir(parents=True, exist_ok=True)
    with store.batch(by=by, source="matrices page") as uow:
        guard.check(uow, ADMINISTER)
        uow.audit("matrix_file", str(target), {"kind": (None, doc.kind), "id": (None, doc.id),
                                               "version": (None, doc.version),
                                               "sha256": (None, hashlib.sha256(data).hexdigest())})
        target.write_bytes(data)
    store.refresh_catalog()
    return target
