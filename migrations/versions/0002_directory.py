"""directory: domains and networks of organisations

Organisations gain the domains and IP networks they host (providers) or are
responsible for (registrars), for tracing a reported host to its provider.
Networks keep their first and last address as bytes so that "which networks
contain this address" is an indexed range query on SQLite and PostgreSQL.
The new kind "registrar" is a value of organisations.kind; no schema change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:41:45.644274

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "organisation_domains",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_domains_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "domain", name=op.f("pk_organisation_domains")),
    )
    with op.batch_alter_table("organisation_domains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_domains_domain"), ["domain"], unique=False
        )

    op.create_table(
        "organisation_networks",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("cidr", sa.String(length=43), nullable=False),
        sa.Column("family", sa.Integer(), nullable=False),
        sa.Column("prefix_length", sa.Integer(), nullable=False),
        sa.Column("first", sa.LargeBinary(length=16), nullable=False),
        sa.Column("last", sa.LargeBinary(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_networks_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "cidr", name=op.f("pk_organisation_networks")),
    )
    with op.batch_alter_table("organisation_networks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_organisation_networks_range", ["family", "first", "last"], unique=False
        )

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index("ix_organisations_kind_country", ["kind", "country"], unique=False)


def downgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index("ix_organisations_kind_country")

    with op.batch_alter_table("organisation_networks", schema=None) as batch_op:
        batch_op.drop_index("ix_organisation_networks_range")

    op.drop_table("organisation_networks")
    with op.batch_alter_table("organisation_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_domains_domain"))

    op.drop_table("organisation_domains")
