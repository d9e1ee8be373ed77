"""db backup and db restore of a large database, beside the bare tools, with peak memory (issue 16).

    # databases filled by bench/generate_cases.py (see bench/README.md)
    .venv/bin/python bench/db_backup.py \\
        --db-url postgresql://postgres@127.0.0.1:5432/casemgr_bench_100k \\
        --db-url postgresql://postgres@127.0.0.1:5432/casemgr_bench_1m \\
        --db-url sqlite:////var/tmp/bench/bench_100k.db \\
        --db-url sqlite:////var/tmp/bench/bench_1m.db \\
        --workdir /var/tmp/bench/out --runs 3

For each database and run, four commands, each in a process of its own:

- ``flask --app wsgi db backup DIR`` (the app: row counts in the snapshot,
  the dump streamed and hashed in chunks, the manifest);
- the bare backup: ``pg_dump --format=custom -f FILE`` on PostgreSQL, on
  SQLite a Python process doing ``sqlite3.connect(src).backup(dst)`` and
  nothing else;
- ``flask --app wsgi db restore DIR`` into a new empty database (PostgreSQL:
  a database made for it; SQLite: a new file), which checks the SHA-256 of
  the dump first and counts every table after;
- the bare restore: ``pg_restore --single-transaction --no-owner -d`` on
  PostgreSQL; on SQLite the same Python backup call back into a new file.

Reported per database: wall time of each (median, min-max over the runs), the
ratio app/bare per run, and **peak memory**: the Python process's peak RSS
(``ru_maxrss`` from ``wait4``) and, on PostgreSQL, pg_dump's and
pg_restore's (their ``VmHWM``, read from ``/proc`` every 10 ms while they
run: a high-water mark, so a late sample still holds the peak). Compare the
100k and the 1M rows: memory must not grow with the number of rows.
Every backup, restored database and file is removed after its run. Each
app backup adds one ``db.backup`` entry to the source's audit log.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]

import lib  # noqa: E402

SQLITE_COPY = "import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d); d.close(); s.close()"  # noqa: E501


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            found = [int(item) for item in listing.read().split()]
    except OSError:
        return []
    return found + [grandchild for child in found for grandchild in children(child)]


def high_water_kib(pid: int) -> tuple[str, int] | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except OSError:
        return None
    return fields["Name"].strip(), int(fields.get("VmHWM", "0 kB").split()[0])


def measured(command: list[str], env: dict[str, str]) -> dict:
    """Run ``command``; its wall time, its own peak RSS (wait4) and its children's (by name)."""
    peaks: dict[str, int] = {}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for child in [process.pid, *children(process.pid)]:
                found = high_water_kib(child)
                if found:
                    name, kib = found
                    peaks[name] = max(peaks.get(name, 0), kib)
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out.decode()}\n{err.decode()}")
    # ru_maxrss counts the forked copy of this process before its exec too: right for
    # the flask process (far bigger), too high for a small tool, read from VmHWM instead.
    pythons = [peaks.pop(name) for name in list(peaks) if name.startswith("python")]
    own = max([usage.ru_maxrss if "flask" in command else 0, *pythons])
    return {"seconds": elapsed, "self_mib": own / 1024, "children": peaks}


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", "-X", "-q", "-d", admin_url(url), "-c", sql], check=True)


def one_run(url: str, workdir: Path) -> dict:
    tag = uuid.uuid4().hex[:8]
    env = {**os.environ, "DATABASE_URL": url}
    backup = workdir / f"backup-{tag}"
    pg = url.startswith("postgresql")
    start = measured(flask("jobs", "list"), env)  # the fixed cost: Python, imports, create_app
    app_backup = measured(flask("db", "backup", str(backup)), env)
    dump = next(backup.glob("database.*"))
    size = dump.stat().st_size

    bare_file = workdir / f"bare-{tag}"
    if pg:
        bare_backup = measured(["pg_dump", "--format=custom", "-f", str(bare_file), "-d", url], env)
    else:
        source = url.removeprefix("sqlite:///")
        bare_backup = measured([sys.executable, "-c", SQLITE_COPY, source, str(bare_file)], env)

    if pg:
        target = url.rsplit("/", 1)[0] + f"/bench_restore_{tag}"
        bare_target = url.rsplit("/", 1)[0] + f"/bench_bare_restore_{tag}"
        psql(url, f"CREATE DATABASE bench_restore_{tag}")
        psql(url, f"CREATE DATABASE bench_bare_restore_{tag}")
    else:
        target = f"sqlite:///{workdir / f'restored-{tag}.db'}"
        bare_target = str(workdir / f"bare-restored-{tag}.db")
    try:
        app_restore = measured(flask("db", "restore", str(backup)), {**env, "DATABASE_URL": target})
        if pg:
            bare_restore = measured(
                [
                    "pg_restore",
                    "--single-transaction",
                    "--no-owner",
                    "-d",
                    bare_target,
                    str(bare_file),
                ],
                env,
            )
        else:
            bare_restore = measured(
                [sys.executable, "-c", SQLITE_COPY, str(bare_file), bare_target], env
            )
    finally:
        shutil.rmtree(backup, ignore_errors=True)
        bare_file.unlink(missing_ok=True)
        if pg:
            psql(url, f"DROP DATABASE IF EXISTS bench_restore_{tag} WITH (FORCE)")
            psql(url, f"DROP DATABASE IF EXISTS bench_bare_restore_{tag} WITH (FORCE)")
        else:
            for item in workdir.glob(f"*restored-{tag}.db*"):
                item.unlink()
    return {
        "dump_mib": size / 1024 / 1024,
        "backup_s": app_backup["seconds"],
        "bare_backup_s": bare_backup["seconds"],
        "backup_ratio": app_backup["seconds"] / bare_backup["seconds"],
        "restore_s": app_restore["seconds"],
        "bare_restore_s": bare_restore["seconds"],
        "restore_ratio": app_restore["seconds"] / bare_restore["seconds"],
        "backup_python_mib": app_backup["self_mib"],
        "pg_dump_mib": app_backup["children"].get("pg_dump", 0) / 1024,
        "bare_pg_dump_mib": bare_backup["children"].get("pg_dump", 0) / 1024,
        "restore_python_mib": app_restore["self_mib"],
        "pg_restore_mib": app_restore["children"].get("pg_restore", 0) / 1024,
        "bare_python_copy_mib": 0 if pg else bare_backup["self_mib"],
        "app_start_s": start["seconds"],
    }


def describe(url: str) -> str:
    code = (
        "from sqlalchemy import create_engine, text; import sys; "
        "e = create_engine(sys.argv[1].replace('postgresql://', 'postgresql+psycopg://')); "
        "c = e.connect(); print(c.execute(text('SELECT count(*) FROM cases')).scalar(), "
        "c.execute(text('SELECT count(*) FROM submissions')).scalar(), "
        "c.execute(text('SELECT count(*) FROM case_events')).scalar())"
    )
    cases, submissions, events = subprocess.run(
        [sys.executable, "-c", code, url], capture_output=True, text=True, check=True
    ).stdout.split()
    if url.startswith("sqlite"):
        size = os.path.getsize(url.removeprefix("sqlite:///"))
    else:
        query = subprocess.run(
            ["psql", "-X", "-At", "-d", url, "-c", "SELECT pg_database_size(current_database())"],
            capture_output=True,
            text=True,
            check=True,
        )
        size = int(query.stdout)
    return (
        f"{int(cases):,} cases, {int(submissions):,} submissions, {int(events):,} events; "
        f"database {size / 1024 / 1024:,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db-url", action="append", required=True, help="a filled database; repeat"
    )
    parser.add_argument(
        "--workdir", required=True, help="where backups go (removed after each run)"
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    lib.print_header("db backup and db restore (issue 16)")
    for url in args.db_url:
        print(f"### {url.split('@')[-1]}: {describe(url)}\n")
        loads = [os.getloadavg()[0]]
        results = []
        for _ in range(args.runs):
            results.append(one_run(url, workdir))
            loads.append(os.getloadavg()[0])
        stats = {key: lib._stats([result[key] for result in results]) for key in results[0]}
        rows = [
            {"what": "dump file, MiB", "median (min–max)": stats["dump_mib"]},
            {"what": "app start (flask jobs list), s", "median (min–max)": stats["app_start_s"]},
            {"what": "db backup, s", "median (min–max)": stats["backup_s"]},
            {"what": "bare backup, s", "median (min–max)": stats["bare_backup_s"]},
            {"what": "backup app/bare", "median (min–max)": stats["backup_ratio"]},
            {"what": "db restore, s", "median (min–max)": stats["restore_s"]},
            {"what": "bare restore, s", "median (min–max)": stats["bare_restore_s"]},
            {"what": "restore app/bare", "median (min–max)": stats["restore_ratio"]},
            {
                "what": "db backup: Python peak RSS, MiB",
                "median (min–max)": stats["backup_python_mib"],
            },
            {
                "what": "db restore: Python peak RSS, MiB",
                "median (min–max)": stats["restore_python_mib"],
            },
        ]
        if url.startswith("postgresql"):
            rows += [
                {
                    "what": "pg_dump peak RSS (under db backup), MiB",
                    "median (min–max)": stats["pg_dump_mib"],
                },
                {
                    "what": "pg_dump peak RSS (bare), MiB",
                    "median (min–max)": stats["bare_pg_dump_mib"],
                },
                {
                    "what": "pg_restore peak RSS (under db restore), MiB",
                    "median (min–max)": stats["pg_restore_mib"],
                },
            ]
        else:
            rows.append(
                {
                    "what": "bare Python sqlite3 backup: peak RSS, MiB",
                    "median (min–max)": stats["bare_python_copy_mib"],
                }
            )
        lib.report_table(rows)
        averages = ", ".join(f"{value:.2f}" for value in loads)
        print(f"\n- load average (1 min) at start and after each run: {averages}\n")


if __name__ == "__main__":
    main()
