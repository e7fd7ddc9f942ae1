"""Workshops may rate the target stage too: the workshop's setting, each participant's target and
the agreed target.

Revision ID: 0007_workshop_targets
Revises: 0006_access
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_workshop_targets"
down_revision = "0006_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN, not batch mode: on SQLite a batch recreates the table, and
    # dropping the old workshop table (foreign keys on) would cascade-delete its participants,
    # ratings and agreed stages. Adding a column with a constant default is fine on both databases.
    # Workshops opened before this rated the current stage only.
    op.add_column("workshop", sa.Column("rate_target", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("workshop_rating", sa.Column("target_stage", sa.String(80)))
    op.add_column("workshop_consensus", sa.Column("target_stage", sa.String(80)))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35 and later) for the same reason: a batch would recreate the
    # workshop table and cascade-delete everything in it.
    op.drop_column("workshop_consensus", "target_stage")
    op.drop_column("workshop_rating", "target_stage")
    op.drop_column("workshop", "rate_target")
