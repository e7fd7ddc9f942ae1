"""Which matrix a page, a report or a command works in when there is more than one.

A PCN may be rated against several matrices in one year (the national one and its ICS's own,
say). Nothing picks one of them silently: every reader of assessments is given the matrix to
show, and lists what else there is.

Rules, in one place:
- Matrices linked by `supersedes` (in either direction, through any chain of loaded files) are one
  *family*: choosing one of them shows the assessments against any of them, translated as
  scoring does across versions. Versions of one matrix id are always one family.
- The options a page offers are the families a PCN (or an ICS's PCNs) has assessments on, each
  named by the id used most recently: latest year first, then the assessment started last.
- The one shown first is the family of the ICS's default matrix when it is among the options,
  else the latest (`preferred`).
- `find_matrix` resolves a matrix id (and optional version) named on a command line or in a
  setting, with a message listing what is loaded when there is no such matrix.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from matrix import Matrix, version_key

from .values import NotFoundError

Families = Callable[[str], frozenset[str]]


def families(matrices: Iterable[Matrix]) -> Families:
    """The family of a matrix id: every id joined to it through `supersedes`."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in matrices:
        root(m.id)
        if m.supersedes is not None:
            parent[root(m.id)] = root(m.supersedes.matrix)
    groups: dict[str, set[str]] = {}
    for x in list(parent):
        groups.setdefault(root(x), set()).add(x)
    by_id = {x: frozenset(g) for g in groups.values() for x in g}
    return lambda matrix_id: by_id.get(matrix_id, frozenset({matrix_id}))


def store_families(store) -> Families:
    return families(store.matrices().values())


def in_use(assessments: Iterable[Any], family: Families) -> list[str]:
    """One matrix id per family the assessments use, the most recently used first (latest year,
    then the assessment started last); each family is named by the id it was last used under."""
    order = sorted(assessments, key=lambda a: (a.year, a.id), reverse=True)
    out: list[str] = []
    for a in order:
        if not any(a.matrix_id in family(x) for x in out):
            out.append(a.matrix_id)
    return out


def preferred(options: Sequence[str], ics_default: str | None, family: Families) -> str | None:
    """The option to show first: the one in the ICS default's family, else the first (the latest)."""
    if ics_default:
        for x in options:
            if x in family(ics_default):
                return x
    return options[0] if options else None


def same_family(matrix_id: str, chosen: str | None, family: Families) -> bool:
    return chosen is not None and matrix_id in family(chosen)


def parse_spec(text: str) -> tuple[str, str | None]:
    """'ID' or 'ID@VERSION' (ids never contain '@')."""
    matrix_id, at, version = text.strip().partition("@")
    return matrix_id.strip(), (version.strip() or None) if at else None


def find_matrix(store, matrix_id: str, version: str | None = None) -> Matrix:
    """The loaded matrix with that id: the named version, or its newest. NotFoundError naming what
    is loaded when there is none."""
    loaded = store.matrices()
    same = [m for m in loaded.values() if m.id == matrix_id]
    if not same:
        known = ", ".join(sorted({m.id for m in loaded.values()})) or "none"
        raise NotFoundError(f"there is no matrix '{matrix_id}' (matrices loaded: {known})")
    if version is None:
        return max(same, key=lambda m: version_key(m.version))
    for m in same:
        if m.version == version:
            return m
    versions = ", ".join(sorted((m.version for m in same), key=version_key))
    raise NotFoundError(f"matrix '{matrix_id}' has no version {version} (versions loaded: {versions})")


def newest(store, matrix_id: str | None) -> Matrix | None:
    """The newest loaded version of a matrix id, or None when it is not loaded."""
    same = [m for m in store.matrices().values() if m.id == matrix_id]
    return max(same, key=lambda m: version_key(m.version)) if same else None


def title_of(store, matrix_id: str) -> str:
    """A matrix id as people know it: its newest loaded version's title, or the bare id."""
    m = newest(store, matrix_id)
    return m.title if m is not None else matrix_id
