"""Loading many rows at once (generated national-scale data): core INSERT executemany in one
transaction. The caller writes the audit rows the services would have written."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from .. import oplog
from .engine import reset_sequences
from .tables import AssessmentRow, AuditRow, IcsRow, PcnRow, RatingRow

TABLES = {"ics": IcsRow, "pcn": PcnRow, "assessment": AssessmentRow, "rating": RatingRow, "audit_log": AuditRow}


def insert_rows(store, rows_by_table: dict[str, Sequence[dict[str, Any]]], chunk: int = 50_000) -> None:
    """Insert rows given by table name, in the order given, in one transaction."""
    with store.transaction() as conn:
        for name, rows in rows_by_table.items():
            table = TABLES[name].__table__
            for i in range(0, len(rows), chunk):
                conn.execute(insert(table), rows[i:i + chunk])
        reset_sequences(conn)
    oplog.bulk("bulk-load", store, {name: len(rows) for name, rows in rows_by_table.items()})
