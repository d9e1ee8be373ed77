"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from casemgr.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_run_down_and_up_again(app, backend, database_urls, tmp_path):
    """A fresh database can be migrated to head, down to nothing and back."""
    from flask_migrate import downgrade, upgrade

    from casemgr import create_app

    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with other.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        assert "cases" in db.inspect(db.engine).get_table_names()
        db.engine.dispose()
