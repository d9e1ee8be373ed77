"""submissions: the language the report was made in

The reporter's feedback e-mail is written in it. Existing submissions keep
NULL (not known): their feedback uses MAIL_DEFAULT_LANGUAGE, as before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("language")
