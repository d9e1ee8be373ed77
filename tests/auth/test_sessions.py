"""Sessions end after 30 minutes idle and 12 hours after sign-in (the injected clock)."""

from __future__ import annotations

from tests.conftest import login


def test_an_idle_session_ends(client, clock, analyst):
    login(client, analyst)
    clock.advance(minutes=29)
    assert client.get("/cases/").status_code == 200
    clock.advance(minutes=29)  # 29 min since the last request: still alive
    assert client.get("/cases/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/cases/")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert b"Your session has ended" in client.get("/login").data


def test_a_busy_session_ends_twelve_hours_after_sign_in(client, clock, analyst):
    login(client, analyst)
    for _ in range(12 * 3 - 1):
        clock.advance(minutes=20)
        assert client.get("/cases/").status_code == 200
    clock.advance(minutes=21)
    assert client.get("/cases/").status_code == 302


def test_after_the_end_a_new_sign_in_works(client, clock, analyst):
    login(client, analyst)
    clock.advance(hours=1)
    assert client.get("/cases/").status_code == 302
    login(client, analyst)
    assert client.get("/cases/").status_code == 200


def test_the_session_cookie_is_httponly_and_samesite(client, analyst):
    response = client.post("/login", data={"email": analyst.email, "password": "x" * 12})
    login(client, analyst)
    cookie = client.get_cookie("casemgr_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert response.status_code == 401


def test_production_cookies_are_secure_and_host_only(monkeypatch, tmp_path):
    from casemgr import create_app
    from casemgr.crypto import ContactCipher

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CASEMGR_SECRET_KEY", "a-long-random-value-for-this-test")
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_KEY", ContactCipher.generate_key())
    monkeypatch.setenv("CASEMGR_AUDIT_KEY", "a-long-random-audit-key-for-this-test")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert not app.debug
