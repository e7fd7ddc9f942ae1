"""Optimistic-concurrency versions, confidence, ICS region, revisions of agreed assessments, audit log.

Revision ID: 0002_versions_audit
Revises: 0001_initial
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_versions_audit"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

LIVE = sa.text("status <> 'superseded'")


def upgrade() -> None:
    # Existing rows start at version 1, as if just created.
    op.add_column("ics", sa.Column("region", sa.String(100)))
    for table in ("ics", "pcn", "assessment", "rating"):
        op.add_column(table, sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.add_column("assessment", sa.Column("revision_of", sa.Integer))
    op.add_column("rating", sa.Column("confidence", sa.String(6)))
    # Superseded assessments (replaced by a revision) are history; only live ones must be unique.
    op.drop_index("uq_assessment_pcn_year_matrix", table_name="assessment")
    op.create_index("uq_assessment_live", "assessment", ["pcn_code", "year", "matrix_id"], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("who", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_key", sa.String(200), nullable=False),
        sa.Column("field", sa.String(80), nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("source", sa.String(300)),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_key"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_index("uq_assessment_live", table_name="assessment")
    op.create_index("uq_assessment_pcn_year_matrix", "assessment", ["pcn_code", "year", "matrix_id"], unique=True)
    op.drop_column("rating", "confidence")
    op.drop_column("assessment", "revision_of")
    for table in ("ics", "pcn", "assessment", "rating"):
        op.drop_column(table, "version")
    op.drop_column("ics", "region")
