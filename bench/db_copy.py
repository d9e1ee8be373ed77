"""``flask db copy`` of 100,000 and 1,000,000 generated cases from SQLite into
PostgreSQL: wall time and peak memory (RSS) of each, beside a bare baseline.

    .venv/bin/python bench/db_copy.py                       # 100k and 1M, 3 runs each
    .venv/bin/python bench/db_copy.py --cases 100000 --runs 1
    .venv/bin/python bench/db_copy.py --workdir /var/tmp/casemgr-bench --pg-url postgresql://...

The SQLite sources are made once by ``bench/generate_cases.py`` (with a
fixed ``--now``) as ``<workdir>/cases-<N>.db`` and reused when present. Each
run copies into a new PostgreSQL database made from a template migrated to
head (so every run starts from the same empty, migrated database), then
drops it.

What is measured, per run, for the same source:

- **db copy**: ``flask --app wsgi db copy --to URL`` as its own process: wall
  time (including the closing verification: counts and the audit chain), and
  its peak RSS (``ru_maxrss`` of that child, from ``wait4``);
- **start-up**: ``flask --app wsgi db heads``, the same interpreter and app
  without a copy: the RSS every ``flask`` command starts with;
- **bare COPY** (the baseline): each table's raw SQLite rows streamed into
  the same kind of empty migrated database with psycopg's COPY, no type
  conversion, no verification, in one process of this script's own (its RSS
  is not reported). What is left between the two is the type conversion,
  the per-batch commits and the verification.

Memory must not grow with the number of rows: compare the peak RSS above
start-up for 100k and 1M cases.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sqlite3
import subprocess
import sys
import time
import uuid

import lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOW = "2026-12-01T00:00:00Z"
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def generate(workdir: str, cases: int) -> str:
    path = os.path.join(workdir, f"cases-{cases}.db")
    if os.path.exists(path):
        return path
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    print(f"generating {cases:,} cases into {path} ...", flush=True)
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "bench/generate_cases.py", "--cases", str(cases), "--now", NOW],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return path


class Server:
    """Databases on the PostgreSQL server of ``url``: a migrated template, and
    copies of it made and dropped per run."""

    def __init__(self, url: str):
        import sqlalchemy as sa

        self.sa = sa
        self.base = sa.make_url(url)
        self.admin = sa.create_engine(
            self.base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        self.template = f"casemgr_bench_copy_tpl_{uuid.uuid4().hex[:8]}"
        self._run(f'CREATE DATABASE "{self.template}"')
        env = {**os.environ, "DATABASE_URL": self.url(self.template)}
        subprocess.run(
            [*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
        )

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _run(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(self.sa.text(statement))

    def new(self) -> str:
        name = f"casemgr_bench_copy_{uuid.uuid4().hex[:8]}"
        self._run(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def drop(self, name: str) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.drop(self.template)
        self.admin.dispose()


def measured(command: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, stdout) of ``command`` as a child process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed ({process.returncode}):\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output


def bare_copy(source: str, target_url: str) -> float:
    """Every table's raw rows into the target with COPY: no conversion, no checks."""
    import psycopg
    import sqlalchemy as sa

    from casemgr import create_app
    from casemgr.extensions import db
    from casemgr.ops.copy_rows import plan

    with create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).app_context():
        tables = [p.table for p in plan(list(db.metadata.tables.values()))]
    started = time.perf_counter()
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    conninfo = sa.make_url(target_url).set(drivername="postgresql")
    with psycopg.connect(conninfo.render_as_string(hide_password=False)) as writer:
        for table in tables:
            names = [column.name for column in table.columns]
            listed = ", ".join(f'"{name}"' for name in names)
            rows = reader.execute(f'SELECT {listed} FROM "{table.name}"')
            statement = f'COPY "{table.name}" ({listed}) FROM STDIN'
            with writer.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
            writer.commit()
    reader.close()
    return time.perf_counter() - started


def one_run(server: Server, source: str) -> dict:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{source}", "CASEMGR_ENV": "development"}
    name = server.new()
    try:
        copy_s, copy_rss, output = measured([*FLASK, "db", "copy", "--to", server.url(name)], env)
        if "Verified: " not in output:
            raise SystemExit(f"the copy did not verify:\n{output}")
    finally:
        server.drop(name)
    _, start_rss, _ = measured([*FLASK, "db", "heads"], env)
    name = server.new()
    try:
        bare_s = bare_copy(source, server.url(name))
    finally:
        server.drop(name)
    return {
        "copy_s": copy_s,
        "bare_s": bare_s,
        "ratio": copy_s / bare_s,
        "rss_mib": copy_rss,
        "start_rss_mib": start_rss,
        "above_start_mib": copy_rss - start_rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "instance", "bench"))
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="any database on the server; the benchmark makes and drops its own",
    )
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    sources = {cases: generate(args.workdir, cases) for cases in args.cases}

    sys.path.insert(0, ROOT)
    print("## db copy: SQLite to PostgreSQL\n")
    print(f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"- command: `{shlex.join([os.path.relpath(sys.executable), *sys.argv])}`")
    print(f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start\n")
    server = Server(args.pg_url)
    rows = []
    try:
        for cases, source in sources.items():
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as reader:
                total = sum(
                    reader.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                    for (name,) in reader.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%' AND name <> 'alembic_version'"
                    ).fetchall()
                )
            stats = lib.repeat(lambda source=source: one_run(server, source), runs=args.runs)
            rows.append(
                {
                    "cases": cases,
                    "rows": total,
                    "db copy s": stats["copy_s"],
                    "bare COPY s": stats["bare_s"],
                    "ratio": stats["ratio"],
                    "db copy peak RSS MiB": stats["rss_mib"],
                    "start-up RSS MiB": stats["start_rss_mib"],
                    "RSS above start-up MiB": stats["above_start_mib"],
                    "rows/s (db copy)": total / stats["copy_s"]["median"],
                }
            )
    finally:
        server.close()
    lib.report_table(rows)
    print(f"\n- load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
