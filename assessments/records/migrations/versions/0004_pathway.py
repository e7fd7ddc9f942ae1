"""Pathway tracking: per PCN, year and step of the development pathway, its status, date,
checklist ticks and a note.

Revision ID: 0004_pathway
Revises: 0003_plans
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_pathway"
down_revision = "0003_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pathway_step",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pcn_code", sa.String(6), sa.ForeignKey("pcn.code"), nullable=False),
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("pathway_id", sa.String(80), nullable=False),
        sa.Column("step_number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="not started"),
        sa.Column("date", sa.Date),
        # Ticked checklist item ids, sorted: one audit row shows the whole list before and after.
        sa.Column("ticks", sa.JSON, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("uq_pathway_step", "pathway_step", ["pcn_code", "year", "pathway_id", "step_number"], unique=True)
    op.create_index("ix_pathway_step_year", "pathway_step", ["year"])


def downgrade() -> None:
    op.drop_index("ix_pathway_step_year", table_name="pathway_step")
    op.drop_index("uq_pathway_step", table_name="pathway_step")
    op.drop_table("pathway_step")
