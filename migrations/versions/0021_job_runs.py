"""job_runs: one row per run of a scheduled job (start, end, outcome, summary, error)

Revision ID: 0021_job_runs
Revises: 0020
Create Date: 2026-12-05 00:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021_job_runs"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_job_id", ["job", "id"], unique=False)
        batch_op.create_index("ix_job_runs_job_outcome_id", ["job", "outcome", "id"], unique=False)
        batch_op.create_index("ix_job_runs_job_started", ["job", "started_at"], unique=False)


def downgrade():
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_job_started")
        batch_op.drop_index("ix_job_runs_job_outcome_id")
        batch_op.drop_index("ix_job_runs_job_id")

    op.drop_table("job_runs")
