"""the notified cohort from its index alone: notice_sent_at, received_at, removed_at

The figures of a period read the cases whose notice went out in it but that
were received before it. ``ix_cases_notice_sent_at`` (0004) found the notices
of the period, then fetched every one of those cases from the table to test its
received_at (about 184,000 fetches for 871 cases in a year of bench/stats.py).
This index holds the three columns that part of the figures reads, so it is
answered from the index (an index-only scan on PostgreSQL, a covering index on
SQLite), and replaces the old one, whose every use it serves.

Revision ID: 0023_notice_cohort_index
Revises: 0022_reporter_status
Create Date: 2026-12-05 03:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0023_notice_cohort_index"
down_revision = "0022_reporter_status"
branch_labels = None
depends_on = None

NOTICE_SENT = sa.text("notice_sent_at IS NOT NULL")


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_notice_cohort",
            ["notice_sent_at", "received_at", "removed_at"],
            unique=False,
            postgresql_where=NOTICE_SENT,
            sqlite_where=NOTICE_SENT,
        )
        batch_op.drop_index(
            "ix_cases_notice_sent_at", postgresql_where=NOTICE_SENT, sqlite_where=NOTICE_SENT
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_notice_sent_at",
            ["notice_sent_at"],
            unique=False,
            postgresql_where=NOTICE_SENT,
            sqlite_where=NOTICE_SENT,
        )
        batch_op.drop_index(
            "ix_cases_notice_cohort", postgresql_where=NOTICE_SENT, sqlite_where=NOTICE_SENT
        )
