"""The checks a backup passes before restore writes anything: every value against its column as
the database defines it, references within the backup, and the matrices, stages and elements
the rows name.

Everything is read from the table definitions (reflected from the database at the backup's
schema), so a column added by a later migration is checked with no change here. Where a value
names something in the catalog is read from the schema's own naming: a table with `matrix_id`
and `matrix_version` is rated against that matrix, and so is a table whose foreign key leads to
one (rating -> assessment, workshop_rating -> workshop); in such a table `element_id` is an
element of that matrix and `stage` or any `..._stage` column one of its stages. Elsewhere
(plan priorities) they must belong to some matrix available here.

Rows are numbered from 1 in the order the backup lists them. Each column is checked in one pass
over all its values; only a column with a problem is walked again to name the rows.
"""
from __future__ import annotations

import base64
import binascii
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Integer, LargeBinary, Numeric, SmallInteger, String

MAX_SHOWN = 20  # problems listed in a message; the rest are counted
# (matrix id, version) -> (stage ids, element ids), for every matrix available here
Known = Mapping[tuple[str, str], tuple[Iterable[str], Iterable[str]]]

_INT_RANGE = {SmallInteger: 2 ** 15, BigInteger: 2 ** 63, Integer: 2 ** 31}  # PostgreSQL's limits, SQLite's too


class Problems:
    """Problems found so far: the first MAX_SHOWN in full, the others counted."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, where: str, what: str) -> None:
        self.count += 1
        if len(self.shown) < MAX_SHOWN:
            self.shown.append(f"{where}: {what}")

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def full(self) -> bool:
        """No room for more messages: count the rest without writing them."""
        return len(self.shown) >= MAX_SHOWN

    def report(self) -> str:
        more = [f"... and {self.count - len(self.shown):,} more"] if self.count > len(self.shown) else []
        head = f"the backup has {self.count:,} problem{'s' if self.count != 1 else ''}:"
        return "\n".join([head, *self.shown, *more])


def shown(value: Any) -> str:
    """A value for a message: short, and its JSON type when that is the point."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Bad(ValueError):
    """One value that does not fit its column."""


def _check_int(limit: int) -> Callable[[Any], Any]:
    def check(v):
        if type(v) is not int:
            raise Bad(f"{shown(v)} is not a whole number")
        if not -limit <= v < limit:
            raise Bad(f"{v} is too large for this column")
        return v
    return check


def _check_bool(v):
    if type(v) is not bool:
        raise Bad(f"{shown(v)} is not true or false")
    return v


def _check_text(length: int | None) -> Callable[[Any], Any]:
    def check(v):
        if type(v) is not str:
            raise Bad(f"{shown(v)} is not text")
        if length is not None and len(v) > length:
            raise Bad(f"{len(v):,} characters, more than the {length} this column holds")
        return v
    return check


def _check_datetime(timezone: bool, convert: bool = True) -> Callable[[Any], Any]:
    def check(v):
        if type(v) is not str:
            raise Bad(f"{shown(v)} is not a date and time (ISO 8601 text, like 2024-04-01T09:30:00+00:00)")
        try:
            d = datetime.fromisoformat(v)
        except ValueError:
            raise Bad(f"{shown(v)} is not a date and time (ISO 8601, like 2024-04-01T09:30:00+00:00)") from None
        if convert and not timezone and d.tzinfo is not None:
            d = d.astimezone(UTC).replace(tzinfo=None)
        return d
    return check


def _check_date(v):
    if type(v) is not str:
        raise Bad(f"{shown(v)} is not a date (ISO 8601 text, like 2024-04-01)")
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise Bad(f"{shown(v)} is not a date (ISO 8601, like 2024-04-01)") from None


def _check_number(v):
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise Bad(f"{shown(v)} is not a number")
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise Bad(f"{shown(v)} is not a number") from None
    if not d.is_finite():
        raise Bad(f"{shown(v)} is not a number")
    return d


def _check_float(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise Bad(f"{shown(v)} is not a number")
    return v


def _check_binary(v):
    if type(v) is not str:
        raise Bad(f"{shown(v)} is not base64 text")
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise Bad(f"{shown(v)} is not base64 text") from None


def _check_list_of_text(v):
    # Every JSON column of the schema (a PCN's practices, a pathway step's ticks) holds a list of text.
    if type(v) is not list or any(type(x) is not str for x in v):
        raise Bad(f"{shown(v)} is not a list of text")
    return v


def _check_scalar(v):
    if isinstance(v, (list, dict)):
        raise Bad(f"{shown(v)} where a single value belongs")
    return v


def converter(column) -> Callable[[Any], Any]:
    """The backup's JSON value -> the value to insert, raising Bad when it does not fit."""
    t = column.type
    if isinstance(t, Boolean):
        return _check_bool
    if isinstance(t, Integer):
        return _check_int(next(v for k, v in _INT_RANGE.items() if isinstance(t, k)))
    if isinstance(t, DateTime):
        return _check_datetime(bool(t.timezone))
    if isinstance(t, Date):
        return _check_date
    if isinstance(t, Float):
        return _check_float
    if isinstance(t, Numeric):
        return _check_number
    if isinstance(t, String):
        return _check_text(t.length)
    if isinstance(t, LargeBinary):
        return _check_binary
    if isinstance(t, JSON):
        return _check_list_of_text
    return _check_scalar


def _all_parse(parse: Callable[[str], Any], values: Iterable[str]) -> bool:
    try:
        deque(map(parse, values), maxlen=0)  # parsed at C speed, nothing kept
        return True
    except (ValueError, TypeError):
        return False


def _column_fits(column, values: tuple) -> bool:
    """Whether every value fits the column, in quick whole-column passes (the usual case)."""
    if column.nullable:
        values = tuple(v for v in values if v is not None) if None in values else values
    elif None in values:
        return False
    if not values:
        return True
    t, types = column.type, set(map(type, values))
    if isinstance(t, Boolean):
        return types <= {bool}
    if isinstance(t, Integer):
        limit = next(v for k, v in _INT_RANGE.items() if isinstance(t, k))
        return types <= {int} and -limit <= min(values) and max(values) < limit
    if isinstance(t, DateTime):
        return types <= {str} and _all_parse(datetime.fromisoformat, values)
    if isinstance(t, Date):
        return types <= {str} and _all_parse(date.fromisoformat, values)
    if isinstance(t, String):
        return types <= {str} and (t.length is None or max(map(len, values)) <= t.length)
    if isinstance(t, JSON):
        return types <= {list} and all(type(x) is str for v in values for x in v)
    check = converter(column)
    try:
        deque(map(check, values), maxlen=0)
        return True
    except Bad:
        return False


def _bad_values(column, values: tuple) -> tuple[list[tuple[int, str]], int]:
    """The first MAX_SHOWN (index, problem) of values that do not fit, and how many there are."""
    if _column_fits(column, values):
        return [], 0
    check = _check_datetime(True, convert=False) if isinstance(column.type, DateTime) else converter(column)
    required = not column.nullable
    found: list[tuple[int, str]] = []
    n = 0
    for i, v in enumerate(values):
        if v is None:
            if not required:
                continue
            what = "a value is required"
        else:
            try:
                check(v)
                continue
            except Bad as exc:
                what = str(exc)
        n += 1
        if len(found) < MAX_SHOWN:
            found.append((i, what))
    return found, n


def required_columns(table) -> list[str]:
    """Columns every row needs: NOT NULL with no default the database fills in."""
    auto = table.autoincrement_column
    return [c.name for c in table.columns
            if not c.nullable and c.server_default is None and c is not auto]


def check_backup(tables: list, given: Mapping[str, Any], known: Known | None) -> tuple[Problems, dict]:
    """Check every table of the backup against the database's `tables` (sorted, parents first).

    Returns the problems and, per table, (column names, rows) ready to convert and insert."""
    problems = Problems()
    by_name = {t.name: t for t in tables}
    for name in given:
        if name not in by_name:
            problems.add(f"table {shown(name)}", "this database has no such table")
    ready: dict[str, Table] = {}
    for t in tables:
        if t.name not in given:
            continue
        shaped = _shape(t, given[t.name], problems)
        if shaped is not None:
            ready[t.name] = shaped
    for t in tables:
        if t.name in ready:
            _check_values(t, ready[t.name], problems)
    # References and the catalog are checked only in well-typed rows (else each bad value would
    # be reported again as a missing reference).
    if not problems:
        _check_references(tables, ready, problems)
    if not problems and known is not None:
        _check_catalog(tables, ready, known, problems)
    return problems, {name: (t.names, t.rows) for name, t in ready.items()}


class Table:
    """A backup's table in a good shape: its column names, rows, and values column by column."""

    def __init__(self, names: list[str], rows: list):
        self.names, self.rows = names, rows
        # Column by column: each check below is a few whole-column passes.
        self.columns = [tuple([r[j] for r in rows]) for j in range(len(names))]

    def column(self, name: str) -> tuple:
        return self.columns[self.names.index(name)]

    def keys(self, names: list[str]) -> list[tuple]:
        return list(zip(*(self.column(n) for n in names)))


def _shape(t, table: Any, problems: Problems) -> Table | None:
    """The table's column names and rows, if the table has the shape a backup gives it."""
    where = f"table {t.name}"
    if table is None:
        return None
    if not isinstance(table, dict):
        problems.add(where, f"expected an object with \"columns\" and \"rows\", found {_json_type(table)}")
        return None
    names, rows = table.get("columns"), table.get("rows")
    if rows is None or rows == []:
        return None  # an empty table
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        problems.add(where, "\"columns\" is not a list of column names")
        return None
    if not isinstance(rows, list):
        problems.add(where, f"\"rows\" is not a list of rows (found {_json_type(rows)})")
        return None
    ok = True
    for n in names:
        if n not in t.columns:
            problems.add(f"{where}: column {shown(n)}", "this database has no such column")
            ok = False
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.add(f"{where}: column {n}", "listed more than once in \"columns\"")
        ok = False
    for n in required_columns(t):
        if n not in names:
            problems.add(f"{where}: column {n}", "missing from \"columns\" (every row needs a value)")
            ok = False
    width = len(names)
    if set(map(type, rows)) != {list} or set(map(len, rows)) != {width}:
        for i, r in enumerate(rows):
            if type(r) is not list:
                problems.add(f"{where}, row {i + 1}", f"expected a list of {width} values, found {_json_type(r)}")
            elif len(r) != width:
                problems.add(f"{where}, row {i + 1}", f"{len(r)} values where \"columns\" names {width}")
        ok = False
    return Table(names, rows) if ok else None


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    return shown(value)


def _check_values(t, table: Table, problems: Problems) -> None:
    found: list[tuple[int, int, str]] = []  # (row, column index, problem): the first ones, in row order
    total = 0
    for j, (n, values) in enumerate(zip(table.names, table.columns)):
        bad, count = _bad_values(t.columns[n], values)
        found.extend((i, j, what) for i, what in bad)
        total += count
    found.sort()
    for i, j, what in found:
        problems.add(f"table {t.name}, row {i + 1}: column {table.names[j]}", what)
    problems.count += total - len(found)
    pk = [c.name for c in t.primary_key.columns]
    if not pk or not all(n in table.names for n in pk) or total:
        return
    keys = table.keys(pk)
    if len(set(keys)) == len(keys):
        return
    first: dict[tuple, int] = {}
    for i, key in enumerate(keys):
        at = first.setdefault(key, i)
        if at != i:
            problems.add(f"table {t.name}, row {i + 1}", f"the same {', '.join(pk)} as row {at + 1}")


def _check_references(tables: list, ready: dict[str, Table], problems: Problems) -> None:
    """Foreign keys within the backup: the database is empty, so each must point at a row restored with it."""
    for t in tables:
        if t.name not in ready:
            continue
        table = ready[t.name]
        for fk in t.foreign_key_constraints:
            local, parent = list(fk.column_keys), fk.referred_table.name
            remote = [e.column.name for e in fk.elements]
            if not all(c in table.names for c in local):
                continue
            have = set(ready[parent].keys(remote)) if parent in ready and all(
                c in ready[parent].names for c in remote) else set()
            keys = table.keys(local)
            missing = {k for k in set(keys) - have if None not in k}
            if not missing:
                continue
            for i, key in enumerate(keys):
                if key in missing and problems.full:
                    problems.count += 1
                elif key in missing:
                    problems.add(f"table {t.name}, row {i + 1}: column {', '.join(local)}",
                                 f"{shown(key[0] if len(key) == 1 else key)} is not in table {parent} of the backup")


def _is_stage(column: str) -> bool:
    return column == "stage" or column.endswith("_stage")


def _check_catalog(tables: list, ready: dict[str, Table], known: Known, problems: Problems) -> None:
    matrices = {k: (frozenset(s), frozenset(e)) for k, (s, e) in known.items()}
    anywhere = (frozenset().union(*(s for s, _ in matrices.values())),
                frozenset().union(*(e for _, e in matrices.values())))
    ids = {m for m, _ in matrices}
    rated: dict[str, dict[tuple, Any]] = {}  # table -> {primary key: (matrix id, version)}
    for t in tables:  # parents first, so a child finds its parent's matrices
        if t.name not in ready:
            continue
        table = ready[t.name]
        where = f"table {t.name}"
        of_rows = _matrix_of_rows(t, table, rated)
        if "matrix_id" in table.names and "matrix_version" in table.names:
            unknown = set(of_rows) - matrices.keys()
            for i, key in enumerate(of_rows):
                if key in unknown and problems.full:
                    problems.count += 1
                elif key in unknown:
                    col, what = (("matrix_version", f"matrix {key[0]!r} has no version {key[1]!r} here")
                                 if key[0] in ids else ("matrix_id", f"{shown(key[0])} is not a matrix available here"))
                    problems.add(f"{where}, row {i + 1}: column {col}", what)
        pk = [c.name for c in t.primary_key.columns]
        if of_rows is not None and pk and all(n in table.names for n in pk):
            rated[t.name] = dict(zip(table.keys(pk), of_rows))
        for j, n in enumerate(table.names):
            if n != "element_id" and not _is_stage(n):
                continue
            part = 1 if n == "element_id" else 0
            pairs = list(zip(of_rows, table.columns[j])) if of_rows is not None else \
                [(None, v) for v in table.columns[j]]

            bad = {p for p in set(pairs) if not _fits(*p, part, matrices if of_rows is not None else None, anywhere)}
            if not bad:
                continue
            thing = "an element" if part else "a stage"
            for i, (key, value) in enumerate(pairs):
                if (key, value) in bad and problems.full:
                    problems.count += 1
                elif (key, value) in bad:
                    what = "any matrix available here" if key is None else f"matrix {key[0]!r} version {key[1]!r}"
                    problems.add(f"{where}, row {i + 1}: column {n}", f"{shown(value)} is not {thing} of {what}")


def _fits(key, value, part: int, matrices: dict | None, anywhere: tuple) -> bool:
    """Whether `value` is a stage (part 0) or element (part 1) of the row's matrix `key`; of any
    matrix when the table has none in reach (`matrices` None)."""
    if value is None:
        return True  # a required column's nulls are reported with the values
    if matrices is None:
        return value in anywhere[part]
    # A row whose matrix is unknown (reported above, or its parent's) has nothing to check against.
    return key not in matrices or value in matrices[key][part]


def _matrix_of_rows(t, table: Table, rated: dict) -> list | None:
    """(matrix id, version) of each row of a table rated against a matrix, else None."""
    if "matrix_id" in table.names and "matrix_version" in table.names:
        return table.keys(["matrix_id", "matrix_version"])
    for fk in t.foreign_key_constraints:
        parent = rated.get(fk.referred_table.name)
        if parent is None or not all(c in table.names for c in fk.column_keys):
            continue
        # The parent's rows are keyed by its primary key: read the foreign key in that order.
        local = dict(zip((e.column.name for e in fk.elements), fk.column_keys))
        pk = [c.name for c in fk.referred_table.primary_key.columns]
        if set(local) != set(pk):
            continue
        return [parent.get(k) for k in table.keys([local[c] for c in pk])]
    return None
