"""Sign-in and roles: who holds which role where, the people who signed in, who did each change
(subject and role used), submission for agreement, plans shared with the ICS and commissioners,
and longer workshop join codes.

Revision ID: 0006_access
Revises: 0005_workshops
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_access"
down_revision = "0005_workshops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "role_grant",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        # Grants name people by e-mail: a role can be given before the person first signs in.
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        # "" for the administrator, else the ICS or PCN code (a unique key needs no NULLs).
        sa.Column("scope", sa.String(6), nullable=False, server_default=""),
        sa.Column("ics_code", sa.String(3), sa.ForeignKey("ics.code")),
        sa.Column("pcn_code", sa.String(6), sa.ForeignKey("pcn.code")),
        sa.Column("may_edit", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("granted_by", sa.String(100), nullable=False),
        sa.Column("granted_at", sa.DateTime, nullable=False),
    )
    op.create_index("uq_role_grant", "role_grant", ["email", "role", "scope"], unique=True)
    op.create_table(
        "person",
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("email", sa.String(200)),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_seen", sa.DateTime, nullable=False),
    )
    with op.batch_alter_table("audit_log") as t:
        t.add_column(sa.Column("actor_subject", sa.String(200)))
        t.add_column(sa.Column("actor_role", sa.String(40)))
    with op.batch_alter_table("assessment") as t:
        t.add_column(sa.Column("submitted_by", sa.String(100)))
        t.add_column(sa.Column("submitted_at", sa.DateTime))
    with op.batch_alter_table("plan") as t:
        t.add_column(sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()))
        t.add_column(sa.Column("shared_by", sa.String(100)))
        t.add_column(sa.Column("shared_at", sa.DateTime))
    with op.batch_alter_table("workshop") as t:
        t.alter_column("code", type_=sa.String(12), existing_type=sa.String(6), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("workshop") as t:
        t.alter_column("code", type_=sa.String(6), existing_type=sa.String(12), existing_nullable=False)
    with op.batch_alter_table("plan") as t:
        t.drop_column("shared_at")
        t.drop_column("shared_by")
        t.drop_column("shared")
    with op.batch_alter_table("assessment") as t:
        t.drop_column("submitted_at")
        t.drop_column("submitted_by")
    with op.batch_alter_table("audit_log") as t:
        t.drop_column("actor_role")
        t.drop_column("actor_subject")
    op.drop_table("person")
    op.drop_index("uq_role_grant", table_name="role_grant")
    op.drop_table("role_grant")
