"""The matrices and pathways found on disk, cached until a file changes."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from matrix import Catalog, discover, matrix_dirs


def _signature() -> tuple:
    """Names, sizes and modification times of every YAML file: cheap to compute on each run."""
    sig = []
    for folder in matrix_dirs():
        sig.append(str(folder))
        if folder.is_dir():
            for p in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
                stat = p.stat()
                sig.append((str(p), stat.st_size, stat.st_mtime_ns))
    return tuple(sig)


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(signature: tuple) -> Catalog:
    return discover([Path(s) for s in signature if isinstance(s, str)])


def get_catalog() -> Catalog:
    return _load(_signature())


def display_name(path: str) -> str:
    """Shipped files by name; files from the user folder with their folder, so two same names differ."""
    p = Path(path)
    shipped = Path(__file__).resolve().parent.parent / "matrix"
    return p.name if p.parent.resolve() == shipped else str(p)
