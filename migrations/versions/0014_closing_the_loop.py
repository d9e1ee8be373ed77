"""closing the loop: response links, provider answers, reported removals

Every notice and reminder to a hosting provider gets a response link (only
a hash of its token is stored); the provider's answers per URL are kept as
its word. A case records a removal reported by the provider or the removal
check until an analyst verifies it, and why it waits to be routed again. A
provider can be trusted to close its cases by its own word (off for all).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 18:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "response_links",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_response_links_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["notices.id"],
            name=op.f("fk_response_links_superseded_by_id_notices"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_response_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_response_links_token_hash")),
    )
    op.create_table(
        "provider_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("organisation_name", sa.String(length=200), nullable=False),
        sa.Column("answer", sa.String(length=20), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hosted_by", sa.String(length=500), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_provider_responses_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_provider_responses_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_responses")),
    )
    with op.batch_alter_table("provider_responses", schema=None) as batch_op:
        batch_op.create_index("ix_provider_responses_case", ["case_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_provider_responses_notice_id"), ["notice_id"], unique=False
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("removal_reported_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("removal_reported_by", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("attention", sa.String(length=30), nullable=True))
        batch_op.create_index(
            "ix_cases_removal_reported",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text("removal_reported_at IS NOT NULL AND status <> 'closed'"),
            sqlite_where=sa.text("removal_reported_at IS NOT NULL AND status <> 'closed'"),
        )

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "trust_removal_reports", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("trust_removal_reports")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_cases_removal_reported",
            postgresql_where=sa.text("removal_reported_at IS NOT NULL AND status <> 'closed'"),
            sqlite_where=sa.text("removal_reported_at IS NOT NULL AND status <> 'closed'"),
        )
        batch_op.drop_column("attention")
        batch_op.drop_column("removal_reported_by")
        batch_op.drop_column("removal_reported_at")

    with op.batch_alter_table("provider_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_responses_notice_id"))
        batch_op.drop_index("ix_provider_responses_case")

    op.drop_table("provider_responses")
    op.drop_table("response_links")
