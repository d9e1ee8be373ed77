"""users: the language each member of staff reads the staff screens in

NULL (every existing account) means the default language, the first of
LANGUAGES: the screens stay as they were until someone picks a language.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 15:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
