"""Rate limits that hold however many processes serve the app.

Flask-Limiter's ``memory://`` storage counts in each process: gunicorn's N
workers would each allow the whole limit, N times over together. And a process
without ``RATELIMIT_KEY_SALT`` hashes clients with a salt of its own
(casemgr/privacy.py), so even counters in Redis would not meet. These checks
refuse such a start:

- gunicorn.conf.py asks :func:`worker_problem` whenever gunicorn sets its
  number of workers (at start, on reload, on TTIN), before a worker is forked,
  and leaves the number it checked in :data:`WORKERS_ENV` for the workers;
- a production app started by gunicorn asks :func:`server_problem`: without
  that variable, gunicorn ran without our gunicorn.conf.py and the number of
  workers is unknown, so only a shared storage with one salt will do.

Messages name the storage's scheme only: its URI may hold a password.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Set by gunicorn.conf.py in the master for the workers it forks.
WORKERS_ENV = "GUNICORN_CASEMGR_WORKERS"

_SHARED_STORAGE = (
    "keep the counts in Redis: pip install casemgr[redis] and "
    "CASEMGR_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (docs/deployment.md)"
)


def _scheme(config: Mapping[str, Any]) -> str:
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    return uri.partition("://")[0].lower()


def counts_per_process(config: Mapping[str, Any]) -> bool:
    """Whether the limiter's storage counts in each process on its own."""
    return _scheme(config) == "memory"


def worker_problem(config: Mapping[str, Any], workers: int) -> str | None:
    """Why these settings would multiply every rate limit by ``workers``, or None."""
    if not config.get("RATELIMIT_ENABLED", True) or workers <= 1:
        return None
    if counts_per_process(config):
        return (
            "RATELIMIT_STORAGE_URI (CASEMGR_RATELIMIT_STORAGE_URI) is memory://, which "
            f"counts in each process, and gunicorn is set to run {workers} workers: every "
            f"rate limit would allow {workers} times its number. Either {_SHARED_STORAGE}, "
            "or run one worker (GUNICORN_WORKERS=1)"
        )
    return None


def server_problem(config: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    """Why the server running this process would count clients per worker, or None.

    Outside gunicorn there is nothing to check here: another server with
    several processes needs a shared storage just the same (docs/deployment.md).
    """
    if not environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
        return None
    checked = environ.get(WORKERS_ENV, "")
    if checked.isdecimal():
        return worker_problem(config, int(checked))
    if not config.get("RATELIMIT_ENABLED", True):
        return None
    unchecked = (
        "gunicorn was started without casemgr's gunicorn.conf.py, which checks how "
        "many workers share the rate limits"
    )
    if counts_per_process(config):
        return (
            f"{unchecked}, and RATELIMIT_STORAGE_URI (CASEMGR_RATELIMIT_STORAGE_URI) is "
            "memory://, which counts in each worker. Start it with "
            f"'gunicorn -c gunicorn.conf.py wsgi:app', or {_SHARED_STORAGE} and set "
            "CASEMGR_RATELIMIT_KEY_SALT to one random value for every worker"
        )
    if not config.get("RATELIMIT_KEY_SALT"):
        return (
            f"{unchecked}, and RATELIMIT_KEY_SALT is not set: each worker would hash clients "
            f"with a salt of its own and count them apart, even in {_scheme(config)}. Start "
            "it with 'gunicorn -c gunicorn.conf.py wsgi:app' (one salt for all its workers), "
            "or set CASEMGR_RATELIMIT_KEY_SALT to one random value"
        )
    return None
