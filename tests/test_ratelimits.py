"""Which set-ups would count clients per process (casemgr/ratelimits.py); the
real gunicorn runs in tests/test_gunicorn_conf.py."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from casemgr import create_app, load_settings
from casemgr.ratelimits import WORKERS_ENV, server_problem, worker_problem

MEMORY = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}
REDIS = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "redis://:pw@cache:6379/0"}
GUNICORN = {"SERVER_SOFTWARE": "gunicorn/27.0.1"}


def test_memory_is_refused_for_more_than_one_worker():
    assert worker_problem(MEMORY, 1) is None
    problem = worker_problem(MEMORY, 3)
    assert "CASEMGR_RATELIMIT_STORAGE_URI" in problem and "3 workers" in problem
    assert "redis://" in problem and "casemgr[redis]" in problem and "GUNICORN_WORKERS=1" in problem
    assert worker_problem({**MEMORY, "RATELIMIT_STORAGE_URI": "MEMORY://"}, 2)
    assert worker_problem({}, 2)  # Flask-Limiter's default is memory:// too


def test_a_shared_storage_or_no_limits_at_all_pass():
    assert worker_problem(REDIS, 8) is None
    assert worker_problem({**MEMORY, "RATELIMIT_ENABLED": False}, 8) is None


def test_outside_gunicorn_nothing_is_checked():
    assert server_problem(MEMORY, {}) is None
    assert server_problem(MEMORY, {"SERVER_SOFTWARE": "Apache"}) is None


def test_under_the_shipped_config_the_checked_worker_count_decides():
    assert server_problem(MEMORY, {**GUNICORN, WORKERS_ENV: "1"}) is None
    assert "2 workers" in server_problem(MEMORY, {**GUNICORN, WORKERS_ENV: "2"})


def test_without_the_shipped_config_only_shared_counts_under_one_salt_pass():
    unchecked = "without casemgr's gunicorn.conf.py"
    assert unchecked in server_problem(MEMORY, GUNICORN)
    # Each worker would draw a salt of its own: counted apart even in Redis.
    problem = server_problem(REDIS, GUNICORN)
    assert unchecked in problem and "RATELIMIT_KEY_SALT" in problem and "in redis" in problem
    assert "pw@" not in problem  # the URI may hold a password: only its scheme is named
    assert server_problem({**REDIS, "RATELIMIT_KEY_SALT": "one-for-all"}, GUNICORN) is None
    assert server_problem({**MEMORY, "RATELIMIT_ENABLED": False}, GUNICORN) is None


@pytest.fixture
def production(monkeypatch, tmp_path):
    monkeypatch.setenv("CASEMGR_SECRET_KEY", "x" * 64)
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("CASEMGR_AUDIT_KEY", "x" * 64)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'casemgr.db'}")
    for name in ("SERVER_SOFTWARE", WORKERS_ENV, "CASEMGR_RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_under_an_unchecked_gunicorn_refuses_to_start(production):
    create_app("production")  # outside gunicorn (flask commands, the scheduler)
    production.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")
    with pytest.raises(RuntimeError, match="without casemgr's gunicorn.conf.py"):
        create_app("production")
    production.setenv(WORKERS_ENV, "1")
    create_app("production")


def test_development_under_gunicorn_is_not_checked_by_the_app(production):
    production.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")
    create_app("development")


def test_load_settings_reads_what_create_app_would(production):
    production.setenv("CASEMGR_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/5")
    settings = load_settings("production")
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/5"
    assert settings["ENV_NAME"] == "production"
    assert (
        settings["RATELIMIT_STORAGE_URI"]
        == create_app("production").config["RATELIMIT_STORAGE_URI"]
    )
