"""First schema: organisations, assessments and ratings (no versions, confidence or audit yet).

Revision ID: 0001_initial
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ics",
        sa.Column("code", sa.String(3), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "pcn",
        sa.Column("code", sa.String(6), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("ics_code", sa.String(3), sa.ForeignKey("ics.code"), nullable=False),
        sa.Column("list_size", sa.Integer, nullable=False),
        sa.Column("rural", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("practices", sa.JSON, nullable=False),
    )
    op.create_index("ix_pcn_ics_code", "pcn", ["ics_code"])
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pcn_code", sa.String(6), sa.ForeignKey("pcn.code"), nullable=False),
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("matrix_id", sa.String(80), nullable=False),
        sa.Column("matrix_version", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="draft"),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    # A unique index rather than a constraint, so that 0002 can narrow it without rebuilding the table.
    op.create_index("uq_assessment_pcn_year_matrix", "assessment", ["pcn_code", "year", "matrix_id"], unique=True)
    op.create_index("ix_assessment_year", "assessment", ["year"])
    op.create_table(
        "rating",
        sa.Column("assessment_id", sa.Integer, sa.ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("element_id", sa.String(80), primary_key=True),
        sa.Column("current_stage", sa.String(80)),
        sa.Column("target_stage", sa.String(80)),
        sa.Column("evidence", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rating")
    op.drop_table("assessment")
    op.drop_table("pcn")
    op.drop_table("ics")
