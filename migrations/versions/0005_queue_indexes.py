"""queue indexes: every case newest first; a host's newest first; hosting country with state

The "all" view and the API's default list had no index in their order: at a
million cases PostgreSQL sorted the whole table for each page (~0.4 s) and
SQLite ~8 s. A search by host name sorted all the host's cases (a big host
has tens of thousands): (host) becomes (host, received_at, id), which still
serves every look-up by host. The hosting-country filter (with or without a
state) read every case of the state to find the country's.

Building them takes a few seconds at a million cases, during which writes
to cases wait.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 12:00:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_received", ["received_at", "id"], unique=False)
        batch_op.drop_index("ix_cases_host")
        batch_op.create_index("ix_cases_host_received", ["host", "received_at", "id"], unique=False)
        batch_op.create_index(
            "ix_cases_country_status_received",
            ["hosting_country", "status", "received_at", "id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_country_status_received")
        batch_op.drop_index("ix_cases_host_received")
        batch_op.create_index("ix_cases_host", ["host"], unique=False)
        batch_op.drop_index("ix_cases_received")
