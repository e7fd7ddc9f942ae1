"""Evidence items per element and the ICS's confirmation or return of a submitted assessment (issue 16).

Revision ID: 0009_evidence_agreement
Revises: 0008_matrix_shapes
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_evidence_agreement"
down_revision = "0008_matrix_shapes"
branch_labels = None
depends_on = None

ASSESSMENT_COLUMNS = ("confirmed_by", "confirmed_at", "returned_by", "returned_at", "return_comment")


def _latest(what: str, field: str, cond: str) -> str:
    """The audit log's latest row for an assessment's field, for filling the new columns of
    assessments agreed before this revision. CAST works alike on SQLite and PostgreSQL; the audit
    key of an assessment is its id as text."""
    return (f"(SELECT {what} FROM audit_log a WHERE a.entity = 'assessment' "
            f"AND a.entity_key = CAST(assessment.id AS VARCHAR(20)) AND a.field = '{field}' AND {cond} "
            f"ORDER BY a.id DESC LIMIT 1)")


def upgrade() -> None:
    # Plain ADD COLUMN and new tables only, as in 0007 and 0008: on SQLite a batch would rebuild
    # `assessment` and dropping the old one would cascade-delete its ratings.
    op.add_column("assessment", sa.Column("confirmed_by", sa.String(100)))
    op.add_column("assessment", sa.Column("confirmed_at", sa.DateTime))
    op.add_column("assessment", sa.Column("returned_by", sa.String(100)))
    op.add_column("assessment", sa.Column("returned_at", sa.DateTime))
    op.add_column("assessment", sa.Column("return_comment", sa.Text))
    op.add_column("rating", sa.Column("carried_over", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "evidence_file",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("assessment_id", sa.Integer, sa.ForeignKey("assessment.id", ondelete="CASCADE"), nullable=False),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("link", sa.String(2000)),
        sa.Column("file_id", sa.Integer, sa.ForeignKey("evidence_file.id")),
        sa.Column("review_by", sa.Date, nullable=False),
        sa.Column("carried_from_year", sa.String(7)),
        sa.Column("confirmed_by", sa.String(100)),
        sa.Column("confirmed_at", sa.DateTime),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_evidence_assessment_id", "evidence", ["assessment_id"])
    op.create_index("ix_evidence_file_id", "evidence", ["file_id"])

    # Assessments agreed before: the agreement, from the audit log, and the submission it
    # confirmed (until now agreeing cleared the submission, in the same transaction, so at the
    # same time). Agreed ones with no such audit row (made outside the app) name whoever last
    # changed them, which for a locked assessment is who agreed it.
    agreed, to_agreed = "status IN ('agreed', 'superseded')", "a.after = 'agreed'"
    op.execute(f"UPDATE assessment SET confirmed_by = {_latest('a.who', 'status', to_agreed)}, "
               f"confirmed_at = {_latest('a.at', 'status', to_agreed)} WHERE {agreed}")
    op.execute("UPDATE assessment SET confirmed_by = updated_by, confirmed_at = updated_at "
               "WHERE status = 'agreed' AND confirmed_at IS NULL")
    before = "a.after IS NOT NULL AND a.at <= assessment.confirmed_at"
    op.execute(f"UPDATE assessment SET submitted_by = {_latest('a.who', 'submitted_at', before)}, "
               f"submitted_at = {_latest('a.at', 'submitted_at', before)} "
               f"WHERE {agreed} AND submitted_at IS NULL AND EXISTS (SELECT 1 FROM audit_log c "
               f"WHERE c.entity = 'assessment' AND c.entity_key = CAST(assessment.id AS VARCHAR(20)) "
               f"AND c.field = 'submitted_at' AND c.after IS NULL AND c.at = assessment.confirmed_at)")
    # Ratings "copy last year" wrote and nobody has saved since (still at version 1, in a draft)
    # are carried over and not yet reviewed.
    op.execute("UPDATE rating SET carried_over = true WHERE version = 1 AND note LIKE 'Carried over %' "
               "AND assessment_id IN (SELECT id FROM assessment WHERE status = 'draft')")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35 and later), never a rebuild of `assessment` (see upgrade).
    op.drop_index("ix_evidence_file_id", table_name="evidence")
    op.drop_index("ix_evidence_assessment_id", table_name="evidence")
    op.drop_table("evidence")
    op.drop_table("evidence_file")
    op.drop_column("rating", "carried_over")
    for name in reversed(ASSESSMENT_COLUMNS):
        op.drop_column("assessment", name)
