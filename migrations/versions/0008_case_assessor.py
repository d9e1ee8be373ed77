"""statistics: the assessor on the case; submissions by date of receipt

The per-analyst statistics joined every case of a period to its assess event
(through ix_case_events_assess) to find who assessed it: about 0.75 s of a
year's figures over 1M cases (bench/stats.py). The assessor now sits on the
case, written by the assess action itself; existing cases get theirs from
the assess event that matches their assessed_at (about 55 s for 1M cases on
PostgreSQL), and the index that served only that join is dropped.

The number of reports received in a period read every submission; an index
on submissions.received_at reads only the period's.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 13:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ASSESS_EVENT = sa.text("action = 'assess'")

# Portable (a correlated subquery runs on SQLite and PostgreSQL alike); the
# latest matching event wins should two share a timestamp.
BACKFILL = """
UPDATE cases SET assessed_by_id = (
    SELECT e.actor_id FROM case_events AS e
    WHERE e.case_id = cases.id AND e.action = 'assess' AND e.created_at = cases.assessed_at
    ORDER BY e.id DESC LIMIT 1
)
WHERE assessed_at IS NOT NULL
"""


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assessed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_assessed_by_id_users"),
            "users",
            ["assessed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute(BACKFILL)
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index("ix_submissions_received_at", ["received_at"], unique=False)
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_case_events_assess", postgresql_where=ASSESS_EVENT, sqlite_where=ASSESS_EVENT
        )


def downgrade():
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_received_at")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_events_assess",
            ["case_id", "created_at", "actor_id"],
            unique=False,
            postgresql_where=ASSESS_EVENT,
            sqlite_where=ASSESS_EVENT,
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_assessed_by_id_users"), type_="foreignkey")
        batch_op.drop_column("assessed_by_id")
