"""partner hotlines over the API: their base URL, our token there, forward_by; partner_links

A partner hotline running casemgr may carry the base URL of its installation,
our API token there (encrypted with the contact cipher) and how forwarded
cases reach it (letter, api or both). One partner_links row per case
forwarded to it over the API: the delivery, and the partner's case as last
polled.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 18:50:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_base_url", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("api_token_encrypted", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "forward_by", sa.String(length=10), nullable=False, server_default="letter"
            )
        )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.alter_column("forward_by", server_default=None)

    op.create_table(
        "partner_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("remote_submission", sa.String(length=64), nullable=True),
        sa.Column("remote_case_id", sa.Integer(), nullable=True),
        sa.Column("remote_case_reference", sa.String(length=64), nullable=True),
        sa.Column("remote_status", sa.String(length=20), nullable=True),
        sa.Column("remote_resolution", sa.String(length=30), nullable=True),
        sa.Column("remote_removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_learned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_partner_links_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["organisations.id"],
            name=op.f("fk_partner_links_partner_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_links")),
        sa.UniqueConstraint("case_id", name=op.f("uq_partner_links_case_id")),
    )
    with op.batch_alter_table("partner_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_links_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index(
            "ix_partner_links_state_next", ["state", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_partner_links_state_polled", ["state", "last_polled_at"], unique=False
        )


def downgrade():
    op.drop_table("partner_links")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("forward_by")
        batch_op.drop_column("api_token_encrypted")
        batch_op.drop_column("api_base_url")
