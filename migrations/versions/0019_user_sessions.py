"""user_sessions, and the second factor being set up kept on the server

- user_sessions: one row per signed-in session on the web; the cookie holds
  a random key, the row its SHA-256. A cookie is let in only while its row is
  open: signing out ends it, so a kept copy of the cookie is refused.
- users: the TOTP secret being set up (encrypted with the contact cipher),
  when it was made, and the SHA-256 of the key naming the browser setting it
  up; until now that secret rode in the session cookie.
- Cookies made before this revision carry no session key: every member of
  staff signs in once more.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_sessions_key_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_pending_secret", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("totp_pending_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("totp_pending_holder", sa.String(length=64), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_pending_holder")
        batch_op.drop_column("totp_pending_at")
        batch_op.drop_column("totp_pending_secret")
    op.drop_table("user_sessions")
