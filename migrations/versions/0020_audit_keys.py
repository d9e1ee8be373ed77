"""audit log keyed under AUDIT_KEY; checkpoints of its head; the checkpoint e-mail

- audit_log.key_id: the audit key an entry's hash was made under (HMAC-SHA256);
  NULL for the entries made before, which keep their plain SHA-256 hashes. The
  first entry written after this revision with a key configured is the
  switch-over (casemgr/audit/chain.py). Added without rebuilding the table, so
  the triggers of 0003 that keep it append-only stay as they are.
- audit_checkpoints: the signed heads the audit_checkpoint job sent out.
- outbox_messages.checkpoint_id: the e-mail of a checkpoint (kind
  "audit_checkpoint").

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: a batch rebuild of audit_log on
    # SQLite would copy its rows and drop its triggers.
    op.add_column("audit_log", sa.Column("key_id", sa.String(length=16), nullable=True))

    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoints_made_at"), ["made_at"], unique=False)

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkpoint_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_checkpoint_id_audit_checkpoints"),
            "audit_checkpoints",
            ["checkpoint_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbox_messages_checkpoint_id"), ["checkpoint_id"]
        )


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_outbox_messages_checkpoint_id"), type_="unique"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_messages_checkpoint_id_audit_checkpoints"), type_="foreignkey"
        )
        batch_op.drop_column("checkpoint_id")
    op.drop_table("audit_checkpoints")
    # Keyed entries cannot be told from plain ones without this column: going
    # down keeps them, and `audit verify` of that older version reports them.
    # A plain DROP COLUMN (SQLite 3.35+), again to keep the triggers.
    op.drop_column("audit_log", "key_id")
