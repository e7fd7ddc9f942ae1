"""Plan actions linked to priorities or elements, plan versions shared with commissioners, the clinical director's development part (issue 16).

Revision ID: 0010_plan_links
Revises: 0009_evidence_agreement
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_plan_links"
down_revision = "0009_evidence_agreement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables and one plain ADD COLUMN with a constant default, as in 0007: on SQLite a batch
    # would rebuild plan_action, and dropping the old one would cascade to its children.
    # Actions made before this are linked to nothing.
    op.add_column("plan_action", sa.Column("for_service_priority", sa.Boolean, nullable=False,
                                           server_default=sa.false()))
    op.create_table(
        "plan_action_link",
        sa.Column("action_id", sa.Integer, sa.ForeignKey("plan_action.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("element_id", sa.String(200), primary_key=True),
    )
    # A shared version keeps the PDF exactly as the PCN shared it: later changes to the live plan,
    # the matrix files or the layout code cannot alter what a commissioner was given.
    op.create_table(
        "plan_share",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("plan_version", sa.Integer, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
        sa.Column("pdf_sha256", sa.String(64), nullable=False),
        sa.Column("shared_by", sa.String(100), nullable=False),
        sa.Column("shared_at", sa.DateTime, nullable=False),
    )
    op.create_index("uq_plan_share", "plan_share", ["plan_id", "number"], unique=True)
    op.create_table(
        "plan_cd_development",
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("area_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("wants", sa.Text),
        sa.Column("provider", sa.String(300)),
    )


def downgrade() -> None:
    op.drop_table("plan_cd_development")
    op.drop_index("uq_plan_share", table_name="plan_share")
    op.drop_table("plan_share")
    op.drop_table("plan_action_link")
    # Plain DROP COLUMN (SQLite 3.35 and later): a batch would rebuild plan_action and cascade.
    op.drop_column("plan_action", "for_service_priority")
