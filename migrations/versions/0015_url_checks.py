"""the removal check: one row per HEAD check of a case's URL

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 18:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "url_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("final_location", sa.String(length=2048), nullable=True),
        sa.Column("redirects", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_url_checks_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_url_checks")),
    )
    with op.batch_alter_table("url_checks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_url_checks_case_checked", ["case_id", "checked_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("url_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_url_checks_case_checked")

    op.drop_table("url_checks")
