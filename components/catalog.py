"""The matrices and pathways found on disk, as the store reads them (again when a file changes)."""
from __future__ import annotations

from pathlib import Path

from matrix import Catalog

from .state import get_store


def get_catalog() -> Catalog:
    """The store's catalog: one owner of the reference data for the app, the PDF and the command line."""
    return get_store().catalog()


def display_name(path: str) -> str:
    """Shipped files by name; files from the user folder with their folder, so two same names differ."""
    p = Path(path)
    shipped = Path(__file__).resolve().parent.parent / "matrix"
    return p.name if p.parent.resolve() == shipped else str(p)
