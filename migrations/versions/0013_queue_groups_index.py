"""cases: an index of the open cases for the queue grouped by host or submission

The queue grouped by host counts, for every host, its open cases, the oldest
received and the earliest deadline. Read through the other indexes, that
fetched each of the ~100,000 open cases of a million from the table (0.16 s
on PostgreSQL); this partial index holds every column the grouping and the
usual filters read, so the open cases are aggregated from the index alone
(about 25 ms; bench/README.md, "Queue grouped"). About 10 MB at a million
cases, 100,000 of them open; building it takes about half a second there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_open_groups",
            [
                "host",
                "received_at",
                "due_at",
                "status",
                "assignee_id",
                "hosting_country",
                "classification",
                "submission_id",
            ],
            unique=False,
            postgresql_where=sa.text("status <> 'closed'"),
            sqlite_where=sa.text("status <> 'closed'"),
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_cases_open_groups",
            postgresql_where=sa.text("status <> 'closed'"),
            sqlite_where=sa.text("status <> 'closed'"),
        )
