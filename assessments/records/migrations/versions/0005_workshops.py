"""Workshops: several people rate the same PCN's elements, the room sees the spread, and the
facilitator records the agreed stage per element.

Revision ID: 0005_workshops
Revises: 0004_pathway
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_workshops"
down_revision = "0004_pathway"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workshop",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(6), nullable=False),
        sa.Column("pcn_code", sa.String(6), sa.ForeignKey("pcn.code"), nullable=False),
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("matrix_id", sa.String(80), nullable=False),
        sa.Column("matrix_version", sa.String(40), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, server_default="open"),
        sa.Column("revealed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("applied_by", sa.String(100)),
        sa.Column("applied_at", sa.DateTime),
        sa.Column("applied_assessment_id", sa.Integer),
        # Bumped by every write to the workshop, its ratings included: a cheap "anything new?" check.
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    # A join code names one workshop among those not closed; closed ones free their code.
    op.create_index("uq_workshop_code_live", "workshop", ["code"], unique=True,
                    sqlite_where=sa.text("status <> 'closed'"), postgresql_where=sa.text("status <> 'closed'"))
    op.create_table(
        "workshop_participant",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshop.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(100), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        # SHA-256 of the participant's rejoin token: the token itself lives only in their browser.
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("joined_at", sa.DateTime, nullable=False),
    )
    op.create_index("uq_workshop_participant_name", "workshop_participant", ["workshop_id", "name_key"], unique=True)
    op.create_index("uq_workshop_participant_token", "workshop_participant", ["token_hash"], unique=True)
    op.create_table(
        "workshop_rating",
        sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("participant_id", sa.Integer, sa.ForeignKey("workshop_participant.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("element_id", sa.String(80), primary_key=True),
        sa.Column("stage", sa.String(80), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "workshop_consensus",
        sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("element_id", sa.String(80), primary_key=True),
        sa.Column("stage", sa.String(80), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("workshop_consensus")
    op.drop_table("workshop_rating")
    op.drop_index("uq_workshop_participant_token", table_name="workshop_participant")
    op.drop_index("uq_workshop_participant_name", table_name="workshop_participant")
    op.drop_table("workshop_participant")
    op.drop_index("uq_workshop_code_live", table_name="workshop")
    op.drop_table("workshop")
