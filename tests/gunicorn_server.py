"""The real gunicorn with the shipped gunicorn.conf.py, for the tests that need
its processes: workers that share (or fail to share) the rate limits, and the
logs it writes itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "gunicorn.conf.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a production start: keys of its own, the database
    given, and ``settings`` (``CASEMGR_...`` or ``GUNICORN_...`` names)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CASEMGR_", "GUNICORN_"))
        and name not in ("DATABASE_URL", "WEB_CONCURRENCY")
    }
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "CASEMGR_ENV": "production",
        "CASEMGR_SECRET_KEY": os.urandom(32).hex(),
        "CASEMGR_CONTACT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "CASEMGR_AUDIT_KEY": os.urandom(32).hex(),
        "DATABASE_URL": database_url,
        **settings,
    }


def start(env: dict[str, str], *args: str, config: Path = CONFIG) -> subprocess.Popen:
    """gunicorn with ``config`` and ``args`` (``--bind``, ``--workers``, logs), serving wsgi:app."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and server
        [sys.executable, "-m", "gunicorn", "-c", str(config), *args, "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[str]:
    """A started gunicorn's base URL once it answers; stopped (its logs flushed) after."""
    port = free_port()
    server = start(env, "--bind", f"127.0.0.1:{port}", *args)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, base)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)


def wait_until_up(server: subprocess.Popen, base: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5).close()  # noqa: S310
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {server.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
