"""inbound mail: provider replies, auto-replies and bounces read from e-mail

One row per message received (unique by Message-ID, or by the SHA-256 of
its bytes when it has none): headers, the text kept and a description of
each attachment, whose bytes are never stored. A link table names the cases
(and the letter) a message is about.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 17:41:36.378133

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbound_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("from_address", sa.String(length=254), nullable=False),
        sa.Column("from_name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("matched_by", sa.String(length=20), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_truncated", sa.Boolean(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("bounced_outbox_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bounced_outbox_id"],
            ["outbox_messages.id"],
            name=op.f("fk_inbound_mails_bounced_outbox_id_outbox_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_inbound_mails_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mails")),
        sa.UniqueConstraint("message_id", name=op.f("uq_inbound_mails_message_id")),
    )
    with op.batch_alter_table("inbound_mails", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbound_mails_state_received", ["state", "received_at"], unique=False
        )

    op.create_table(
        "inbound_mail_cases",
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_inbound_mail_cases_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mail_id"],
            ["inbound_mails.id"],
            name=op.f("fk_inbound_mail_cases_mail_id_inbound_mails"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_inbound_mail_cases_notice_id_notices"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("mail_id", "case_id", name=op.f("pk_inbound_mail_cases")),
    )
    with op.batch_alter_table("inbound_mail_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_mail_cases_case_id"), ["case_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("inbound_mail_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_mail_cases_case_id"))

    op.drop_table("inbound_mail_cases")
    with op.batch_alter_table("inbound_mails", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_mails_state_received")

    op.drop_table("inbound_mails")
