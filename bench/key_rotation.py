"""``flask --app wsgi keys rotate-contact`` over many stored contacts, beside the
bare cryptography it cannot avoid (issue 16, key rotation).

    .venv/bin/python bench/key_rotation.py                         # SQLite and PostgreSQL, 3 runs
    .venv/bin/python bench/key_rotation.py --db sqlite --rows 20000 100000

For each database and each row count: a database migrated to head holding
that many submissions whose contact is encrypted with one key; each run is
the real command in its own process (``flask --app wsgi keys rotate-contact``,
default batch size) with a new key first and the key of the stored values
as previous, so every run checks and re-encrypts every value (the runs
alternate the two keys). Reported: the run's wall time and the command's
peak resident memory (``ru_maxrss`` of the child: it must not grow with the
rows; measured by a small runner process, see RUNNER), median and
min-max over the runs. The baseline, in the same run, is
the least a rotation costs in this process: the values read into memory,
then for each one decryption with the old key, one with the new (the check
of a rerun) and one encryption with the new key, in a loop, no database.

PostgreSQL: the database ``bench_keyrotation`` on ``--pg-url``'s server is
dropped and made anew.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]


def fresh_url(db: str, pg_url: str, folder: str, rows: int) -> str:
    if db == "sqlite":
        return f"sqlite:///{folder}/rotation-{rows}.db"
    import psycopg

    admin = psycopg.connect(pg_url, autocommit=True)
    admin.execute("DROP DATABASE IF EXISTS bench_keyrotation WITH (FORCE)")
    admin.execute("CREATE DATABASE bench_keyrotation")
    admin.close()
    return pg_url.rsplit("/", 1)[0] + "/bench_keyrotation"


def environment(url: str, newest: str, previous: str = "") -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CASEMGR_ENV": "development",
        "CASEMGR_CONTACT_ENCRYPTION_KEY": newest,
        "CASEMGR_REQUEST_LOG": "false",
    }
    env.pop("CASEMGR_CONTACT_ENCRYPTION_PREVIOUS_KEYS", None)
    if previous:
        env["CASEMGR_CONTACT_ENCRYPTION_PREVIOUS_KEYS"] = previous
    return env


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def fill(url: str, key: str, rows: int) -> None:
    """``rows`` submissions, each with a contact encrypted under ``key``."""
    from cryptography.fernet import Fernet
    from sqlalchemy import insert

    from casemgr import create_app
    from casemgr.cases.models import Submission
    from casemgr.extensions import db

    fernet = Fernet(key)
    now = datetime.now(UTC)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CONTACT_ENCRYPTION_KEY": key})
    with app.app_context():
        for start in range(0, rows, 5000):
            db.session.execute(
                insert(Submission),
                [
                    {
                        "reference": f"B-{number}",
                        "source": "public",
                        "received_at": now,
                        "reporter_contact": fernet.encrypt(f"r{number}@example.org".encode()),
                    }
                    for number in range(start, min(rows, start + 5000))
                ],
            )
            db.session.commit()
        db.engine.dispose()


def stored_tokens(url: str) -> list[bytes]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        values = connection.execute(text("SELECT reporter_contact FROM submissions")).scalars()
        tokens = [bytes(value) for value in values]
    engine.dispose()
    return tokens


def bare_rotation(tokens: list[bytes], old: str, new: str) -> float:
    from cryptography.fernet import Fernet

    before, after = Fernet(old), Fernet(new)
    started = time.perf_counter()
    for token in tokens:
        plain = before.decrypt(token)
        fresh = after.encrypt(plain)
        after.decrypt(fresh)
    return time.perf_counter() - started


# Starts the command and reports its peak memory. A process started straight
# from this one would not do: Linux gives a child the peak RSS of the process
# it was forked from (the memory it shares until exec), and this process
# holds every stored token for the baseline; the small runner does not.
RUNNER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
print(f"RUNNER {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}", file=sys.stderr)
"""


def run_command(env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak resident MiB) of one rotate-contact in its own process."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "keys", "rotate-contact"]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    _, peak, code = done.stderr.strip().splitlines()[-1].split()
    if int(code) != 0 or "Done:" not in done.stdout:
        raise RuntimeError(f"rotate-contact failed ({code}):\n{done.stdout}{done.stderr}")
    return elapsed, int(peak) / 1024


def spread(values: list[float], digits: int = 1) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    options = parser.parse_args()
    from cryptography.fernet import Fernet

    print("## keys rotate-contact\n")
    print(f"- date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"- command: `{shlex.join([os.path.relpath(sys.executable), *sys.argv])}`")
    print(f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start\n")
    print(
        "| database | rows | command s | values/s | peak RSS MiB | bare crypto s | ratio |\n"
        "|---|---|---|---|---|---|---|"
    )
    databases = ["sqlite", "postgres"] if options.db == "both" else [options.db]
    with tempfile.TemporaryDirectory(prefix="casemgr-bench-") as folder:
        for db in databases:
            for rows in options.rows:
                keys = [Fernet.generate_key().decode(), Fernet.generate_key().decode()]
                url = fresh_url(db, options.pg_url, folder, rows)
                migrated = flask(environment(url, keys[0]), "db", "upgrade")
                if migrated.returncode != 0:
                    raise RuntimeError(migrated.stderr)
                fill(url, keys[0], rows)
                seconds, memory, bare = [], [], []
                for run in range(options.runs):
                    old, new = keys[run % 2], keys[(run + 1) % 2]
                    tokens = stored_tokens(url)
                    bare.append(bare_rotation(tokens, old, new))
                    del tokens
                    elapsed, peak = run_command(environment(url, new, old))
                    seconds.append(elapsed)
                    memory.append(peak)
                ratio = [s / b for s, b in zip(seconds, bare, strict=True)]
                rate = [rows / s for s in seconds]
                print(
                    f"| {db} | {rows} | {spread(seconds)} | {spread(rate, 0)} | "
                    f"{spread(memory)} | {spread(bare, 2)} | {spread(ratio)} |"
                )
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
