"""the reporter's receipt codes and the messages on a submission (issue 15)

- submission_receipts: a public submission's receipt code, its selector in
  clear (unique) and its verifier as a salted scrypt hash.
- reporter_messages: the reporter's messages and staff questions on a
  submission, encrypted with the contact key.

Revision ID: 0022_reporter_status
Revises: 0021_job_runs
Create Date: 2026-12-05 00:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0022_reporter_status"
down_revision = "0021_job_runs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "submission_receipts",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("selector", sa.String(length=8), nullable=False),
        sa.Column("verifier_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_receipts_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_submission_receipts")),
        sa.UniqueConstraint("selector", name=op.f("uq_submission_receipts_selector")),
    )
    op.create_table(
        "reporter_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_reporter_messages_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_reporter_messages_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporter_messages")),
    )
    with op.batch_alter_table("reporter_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reporter_messages_submission_id"), ["submission_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("reporter_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reporter_messages_submission_id"))
    op.drop_table("reporter_messages")
    op.drop_table("submission_receipts")
