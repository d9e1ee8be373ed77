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


def test_production_needs_an_audit_key(monkeypatch, tmp_path):
    from casemgr.crypto import ContactCipher

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CASEMGR_SECRET_KEY", "a-long-random-value-for-this-test")
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_KEY", ContactCipher.generate_key())
    with pytest.raises(RuntimeError, match="AUDIT_KEY is not set") as refused:
        create_app("production")
    assert "CONTACT_ENCRYPTION_KEY" not in str(refused.value)


def test_production_starts_when_configured(monkeypatch, tmp_path):
    from casemgr.audit.keys import generate_key, key_id
    from casemgr.crypto import ContactCipher

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CASEMGR_SECRET_KEY", "a-long-random-value-for-this-test")
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_KEY", ContactCipher.generate_key())
    audit_key = generate_key()
    monkeypatch.setenv("CASEMGR_AUDIT_KEY", audit_key)
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    keys = app.extensions["casemgr.audit_keys"]
    assert keys.current_id == key_id(audit_key.encode()) and not keys.derived


def test_production_takes_the_audit_key_from_a_file(monkeypatch, tmp_path):
    from casemgr.audit.keys import key_id
    from casemgr.crypto import ContactCipher

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CASEMGR_SECRET_KEY", "a-long-random-value-for-this-test")
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_KEY", ContactCipher.generate_key())
    key_file = tmp_path / "audit.key"
    key_file.write_text(
        "new-audit-key-new-audit-key-new-audit-key\nold-audit-key-old-audit-key-old-key\n"
    )
    monkeypatch.setenv("CASEMGR_AUDIT_KEY_FILE", str(key_file))
    keys = create_app("production").extensions["casemgr.audit_keys"]
    assert keys.current_id == key_id(b"new-audit-key-new-audit-key-new-audit-key")
    assert keys.previous_ids == [key_id(b"old-audit-key-old-audit-key-old-key")]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"AUDIT_KEY": "short"}, "AUDIT_KEY is shorter than 32 characters"),
        (
            {"AUDIT_KEY": "", "AUDIT_KEY_FILE": "/nonexistent/audit.key"},
            "AUDIT_KEY_FILE '/nonexistent/audit.key' cannot be read",
        ),
        (
            {"AUDIT_KEY": "k" * 40, "AUDIT_KEY_FILE": "/etc/hostname"},
            "set AUDIT_KEY or AUDIT_KEY_FILE, not both",
        ),
        ({"AUDIT_INSTALLATION_ID": "two words"}, "AUDIT_INSTALLATION_ID must be"),
    ],
)
def test_a_bad_audit_key_setting_stops_any_app(settings, message):
    with pytest.raises(RuntimeError, match=message):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})


def test_the_checkpoint_file_may_not_sit_beside_the_sqlite_database(tmp_path):
    with pytest.raises(RuntimeError, match="inside the database's directory"):
        create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'casemgr.db'}",
                "AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.txt"),
            }
        )
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db' / 'casemgr.db'}",
            "AUDIT_CHECKPOINT_FILE": str(tmp_path / "elsewhere" / "checkpoints.txt"),
        }
    )
    assert app.config["AUDIT_CHECKPOINT_FILE"].endswith("checkpoints.txt")


def test_development_derives_an_audit_key_from_the_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    keys = create_app("development").extensions["casemgr.audit_keys"]
    assert keys.derived and "derived from SECRET_KEY" in keys.describe()


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
