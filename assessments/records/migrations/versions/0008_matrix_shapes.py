"""Matrices of any shape: ids up to 200 characters, an element rated "not applicable", and an ICS's
default matrix.

Revision ID: 0008_matrix_shapes
Revises: 0007_workshop_targets
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0008_matrix_shapes"
down_revision = "0007_workshop_targets"
branch_labels = None
depends_on = None

# Columns that hold an id from a file in matrix/ (matrix, element, stage, pathway, service
# specification, funding category): (table, column, nullable). Ids may now be 200 characters long.
ID_COLUMNS = [
    ("assessment", "matrix_id", False),
    ("rating", "element_id", False),
    ("rating", "current_stage", True),
    ("rating", "target_stage", True),
    ("plan", "service_spec", True),
    ("plan_priority", "element_id", False),
    ("plan_action", "funding_category", True),
    ("pathway_step", "pathway_id", False),
    ("workshop", "matrix_id", False),
    ("workshop_rating", "element_id", False),
    ("workshop_rating", "stage", False),
    ("workshop_rating", "target_stage", True),
    ("workshop_consensus", "element_id", False),
    ("workshop_consensus", "stage", False),
    ("workshop_consensus", "target_stage", True),
]
OLD, NEW = 80, 200
# An audit row's key joins a row's id to an element id ("12/<element id>"): room for both.
AUDIT_KEY = ("audit_log", "entity_key", False)
AUDIT_OLD, AUDIT_NEW = 200, 300


def _resize(columns: list[tuple[str, str, bool]], old: int, new: int) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _resize_sqlite(columns, old, new)
        return
    for table, column, nullable in columns:
        op.alter_column(table, column, type_=sa.String(new), existing_type=sa.String(old), existing_nullable=nullable)


def _resize_sqlite(columns: list[tuple[str, str, bool]], old: int, new: int) -> None:
    """SQLite keeps a column's declared type as written in CREATE TABLE and never enforces its
    length, so widening changes no stored value. Rebuilding the tables (batch mode) would copy
    every row and, with foreign keys on, cascade-delete children (0007's note). Instead this edits
    the declared type in sqlite_schema, SQLite's documented procedure for schema changes that do
    not touch the stored rows (https://sqlite.org/lang_altertable.html, "otheralter"): VARCHAR(80)
    and VARCHAR(200) have the same (TEXT) affinity. The database's own schema then says 200, so
    reflection (restore's checks, backups, alembic's comparisons) reads the true length."""
    conn = op.get_bind()
    by_table: dict[str, list[str]] = {}
    for table, column, _ in columns:
        by_table.setdefault(table, []).append(column)
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar()
    conn.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        for table, names in by_table.items():
            sql = conn.exec_driver_sql("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?",
                                       (table,)).scalar()
            for name in names:
                # The column's definition, bare or quoted, at the start of the body or after a comma.
                pattern = re.compile(rf'(?<=[(,\s])("?){re.escape(name)}\1 VARCHAR\({old}\)', re.IGNORECASE)
                sql, n = pattern.subn(rf"\g<1>{name}\g<1> VARCHAR({new})", sql)
                if n != 1:
                    raise RuntimeError(f"table {table}: expected one column {name} VARCHAR({old}), found {n}; "
                                       f"nothing changed")
            conn.exec_driver_sql("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
        # A new schema version makes every connection read the edited schema again.
        conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema=OFF")
    for table, names in by_table.items():  # read back through SQLite's own parser
        declared = {r[1]: r[2] for r in conn.exec_driver_sql(f'PRAGMA table_info("{table}")')}
        wrong = [n for n in names if declared.get(n, "").upper() != f"VARCHAR({new})"]
        if wrong:
            raise RuntimeError(f"table {table}: columns {', '.join(wrong)} were not resized; nothing changed")


def upgrade() -> None:
    # Plain ADD COLUMN, as in 0007: never a table rebuild. Ratings made before were all rated.
    op.add_column("rating", sa.Column("not_applicable", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("ics", sa.Column("default_matrix_id", sa.String(200)))
    _resize(ID_COLUMNS, OLD, NEW)
    _resize([AUDIT_KEY], AUDIT_OLD, AUDIT_NEW)


def downgrade() -> None:
    # Used by restore to take an empty database down to an older backup's schema. On PostgreSQL
    # narrowing fails if a longer id is stored, which leaves the database as it was.
    _resize([AUDIT_KEY], AUDIT_NEW, AUDIT_OLD)
    _resize(ID_COLUMNS, NEW, OLD)
    op.drop_column("ics", "default_matrix_id")
    op.drop_column("rating", "not_applicable")
