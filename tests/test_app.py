"""The factory: configuration sources and production's refusals."""

import pytest

from casemgr import create_app


def test_production_refuses_the_default_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(RuntimeError, match="SECRET_KEY is the development default"):
        create_app("production")


def test_production_needs_a_contact_encryption_key(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CASEMGR_SECRET_KEY", "a-long-random-value-for-this-test")
    with pytest.raises(RuntimeError, match="CONTACT_ENCRYPTION_KEY"):
        create_app("production")


def test_production_starts_when_configured(monkeypatch, tmp_path):
    from casemgr.crypto import ContactCipher

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CASEMGR_SECRET_KEY", "a-long-random-value-for-this-test")
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_KEY", ContactCipher.generate_key())
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_prefixed_environment_variables_override_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("CASEMGR_TAKEDOWN_DUE_HOURS", "48")
    monkeypatch.setenv("CASEMGR_HOTLINE_NAME", "Internet Hotline Example")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["TAKEDOWN_DUE_HOURS"] == 48
    assert app.config["HOTLINE_NAME"] == "Internet Hotline Example"
    assert app.extensions["casemgr.timings"].takedown_due.total_seconds() == 48 * 3600


def test_database_url_is_used_with_the_psycopg_driver(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example/casemgr")
    app = create_app({"TESTING": True})
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@db.example/casemgr"
    )


def test_unknown_environment_name_says_which_exist(monkeypatch):
    monkeypatch.setenv("CASEMGR_ENV", "staging")
    with pytest.raises(SystemExit, match="development, production, testing"):
        create_app()
