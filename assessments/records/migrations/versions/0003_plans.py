"""Development plans: one per PCN and year, with ordered priorities (elements) and actions.

Revision ID: 0003_plans
Revises: 0002_versions_audit
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_plans"
down_revision = "0002_versions_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pcn_code", sa.String(6), sa.ForeignKey("pcn.code"), nullable=False),
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("service_priority", sa.Text),
        sa.Column("service_spec", sa.String(80)),
        sa.Column("notes", sa.Text),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("uq_plan_pcn_year", "plan", ["pcn_code", "year"], unique=True)
    op.create_table(
        "plan_priority",
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("element_id", sa.String(80), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_table(
        "plan_action",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("due", sa.Date),
        sa.Column("status", sa.String(12), nullable=False, server_default="not started"),
        sa.Column("step", sa.Integer),
        sa.Column("support_needed", sa.Text),
        sa.Column("support_from", sa.String(300)),
        # Whole pence: exact on SQLite and PostgreSQL alike.
        sa.Column("cost_pence", sa.BigInteger),
        sa.Column("funding_source", sa.String(80)),
        sa.Column("funding_category", sa.String(80)),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_plan_action_plan_id", "plan_action", ["plan_id"])


def downgrade() -> None:
    op.drop_table("plan_action")
    op.drop_table("plan_priority")
    op.drop_index("uq_plan_pcn_year", table_name="plan")
    op.drop_table("plan")
