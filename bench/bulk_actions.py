"""Bulk actions on 500 cases, in a table of a million, beside the SQL they send (issue 12).

    .venv/bin/python bench/bulk_actions.py --db-url postgresql://postgres@127.0.0.1:5432/casemgr_bench_bulk
    .venv/bin/python bench/bulk_actions.py --db-url ... --runs 5 --cases 500 --show-sql

Needs a database filled by ``bench/generate_cases.py`` (its supervisor acts;
its triage and action_required cases are acted on). Nothing is kept: each
run works in a transaction of its own that is rolled back at the end, the
app's session joined to it (``join_transaction_mode="create_savepoint"``),
so its commit, audit chain included, runs in full and is then undone (what
that skips is the WAL flush of one COMMIT). The database stays as the
generator left it, and every run acts on the same cases.

Measured, each run, for ``assess`` (illegal, with its details) of the
newest ``--cases`` triage cases and ``request_notice`` (one provider) of the
newest ``--cases`` action_required cases (and, for information, ``add_note``
on the triage cases):

- **service**: ``casemgr.cases.bulk.apply_to_many`` and the commit, on a
  fresh session (nothing cached), as the API calls it; wall time, and the
  CPU time of this process (Python and the driver, not the PostgreSQL
  server), which moves far less than wall time when other work shares the
  CPUs;
- **API**: ``POST /api/v1/cases/actions/<action>`` through Flask's test
  client with a bearer token: reading the body, the service, the commit and
  the answer (each case as ``GET /cases/<id>`` shows it);
- **all SQL**: every statement the service sent, with its parameters,
  replayed through a bare DBAPI connection (the database's share);
  **service/all SQL** is the ratio, per run;
- **set-based floor**: what a hand-written bulk update needs at least, one
  ``UPDATE ... WHERE id IN`` and one multi-row ``INSERT`` of the events (of
  the notes, for ``add_note``), beside which the per-case savepoints, events
  and audit entries are paid.

Statements are counted with a ``before_cursor_execute`` listener; per case
is (statements at ``--cases``) - (statements at 10 cases), divided by the
difference: the benchmark stops if the count per case exceeds 5 (no N+1).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shlex
import statistics
import sys
import time
from datetime import UTC, datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import lib  # noqa: E402

SUPERVISOR = "supervisor1@bench.example.org"
ILLEGAL = {
    "classification": "illegal_baseline",
    "media_type": "image",
    "site_type": "image_host",
    "hosting_country": "KH",
}
MAX_PER_CASE = 5


class Recorder:
    """The statements sent while ``on``, with their parameters."""

    def __init__(self):
        self.on = False
        self.statements: list[tuple[str, object]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.statements.append((statement, parameters))


def make_app(db_url: str):
    from cryptography.fernet import Fernet

    os.environ["DATABASE_URL"] = db_url
    os.environ["CASEMGR_ENV"] = "production"
    from casemgr import create_app

    return create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "CONTACT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "AUDIT_KEY": secrets.token_urlsafe(32),
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "REQUEST_LOG": False,
        }
    )


class Scenario:
    def __init__(self, label: str, action: str, status: str, fields: dict):
        self.label, self.action, self.status, self.fields = label, action, status, fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--show-sql", action="store_true", help="print one run's statements")
    args = parser.parse_args()

    from sqlalchemy import event, func, select
    from sqlalchemy.orm import Session

    from casemgr import context
    from casemgr.auth.models import User
    from casemgr.auth.tokens import issue_token
    from casemgr.cases import bulk
    from casemgr.cases.models import Case
    from casemgr.directory.models import Organisation
    from casemgr.extensions import db

    app = make_app(args.db_url)
    recorder = Recorder()
    app_context = app.app_context()
    app_context.push()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", recorder)
    supervisor = db.session.scalar(select(User).where(User.email == SUPERVISOR))
    if supervisor is None:
        raise SystemExit("no bench supervisor: fill the database with bench/generate_cases.py")
    actor = supervisor.actor
    provider_id = db.session.scalar(
        select(Organisation.id).where(Organisation.kind == "hosting_provider").limit(1)
    )
    total = db.session.scalar(select(func.count()).select_from(Case))
    db.session.remove()
    scenarios = [
        Scenario("assess (illegal)", "assess", "triage", ILLEGAL),
        Scenario(
            "request_notice", "request_notice", "action_required", {"provider_id": provider_id}
        ),
        # Not in the target, for information: no workflow, one INSERT a case.
        Scenario("add_note", "add_note", "triage", {"body": "Called the provider."}),
    ]

    def ids_for(session, scenario: Scenario, count: int) -> list[int]:
        found = session.scalars(
            select(Case.id)
            .where(Case.status == scenario.status, Case.police_hold.is_(False))
            .order_by(Case.id.desc())
            .limit(count)
        ).all()
        if len(found) < count:
            raise SystemExit(f"only {len(found)} {scenario.status} cases; {count} needed")
        return list(found)

    def in_rolled_back_transaction(work):
        """``work(session)`` in a transaction that is rolled back after it; the
        app's ``db.session`` is that session meanwhile."""
        connection = engine.connect()
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        db.session.registry.set(session)
        try:
            return work(session)
        finally:
            session.close()
            db.session.registry.clear()
            outer.rollback()
            connection.close()

    def service(scenario: Scenario, count: int) -> tuple[float, float, list]:
        def work(session):
            ids = ids_for(session, scenario, count)
            session.expunge_all()
            recorder.statements, recorder.on = [], True
            started, cpu = time.perf_counter(), time.process_time()
            outcomes = bulk.apply_to_many(
                session,
                scenario.action,
                ids,
                scenario.fields,
                actor=actor,
                now=datetime.now(UTC),
                timings=context.timings(),
            )
            session.commit()
            elapsed = (time.perf_counter() - started) * 1000
            cpu_ms = (time.process_time() - cpu) * 1000
            recorder.on = False
            refused = [o for o in outcomes if not o.ok]
            if refused:
                raise SystemExit(f"{len(refused)} refused, e.g. {refused[0].error}")
            return elapsed, cpu_ms, list(recorder.statements)

        return in_rolled_back_transaction(work)

    def api(scenario: Scenario, count: int) -> tuple[float, float, int]:
        client = app.test_client()

        def work(session):
            ids = ids_for(session, scenario, count)
            token = issue_token(session, session.get(User, supervisor.id), now=datetime.now(UTC))
            session.commit()
            session.expunge_all()
            recorder.statements, recorder.on = [], True
            started, cpu = time.perf_counter(), time.process_time()
            response = client.post(
                f"/api/v1/cases/actions/{scenario.action}",
                json={"case_ids": ids, **scenario.fields},
                headers={"Authorization": f"Bearer {token}"},
            )
            elapsed = (time.perf_counter() - started) * 1000
            cpu_ms = (time.process_time() - cpu) * 1000
            recorder.on = False
            if response.status_code != 200:
                raise SystemExit(f"API {response.status_code}: {response.get_data()[:500]}")
            results = response.get_json()["results"]
            if not all(result["ok"] for result in results):
                raise SystemExit(f"API refused some: {results[:2]}")
            return elapsed, cpu_ms, len(recorder.statements)

        return in_rolled_back_transaction(work)

    raw = engine.raw_connection()

    def replay(statements) -> float:
        """The statements through the bare connection, in a transaction rolled back
        after. The app's session was joined to a transaction by a savepoint that
        its commit released: opened here too, before the clock starts."""
        cursor = raw.cursor()
        opened = re.match(r"RELEASE SAVEPOINT (\w+)", statements[-1][0])
        if opened:
            cursor.execute(f"SAVEPOINT {opened.group(1)}")
        started = time.perf_counter()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
        elapsed = (time.perf_counter() - started) * 1000
        raw.rollback()
        return elapsed

    def floor(scenario: Scenario, count: int) -> float:
        """One UPDATE of every case and one multi-row INSERT of their events."""

        ids = in_rolled_back_transaction(lambda session: ids_for(session, scenario, count))
        cursor = raw.cursor()
        now = datetime.now(UTC)
        started = time.perf_counter()
        if scenario.action == "add_note":
            values = ", ".join(["(%s, %s, %s, %s)"] * len(ids))
            params = [p for case_id in ids for p in (case_id, actor.id, "Called.", now)]
            cursor.execute(
                f"INSERT INTO case_notes (case_id, author_id, body, created_at) VALUES {values}",
                params,
            )
            elapsed = (time.perf_counter() - started) * 1000
            raw.rollback()
            return elapsed
        cursor.execute(
            "UPDATE cases SET status = %s, updated_at = %s, version = version + 1 "
            "WHERE id = ANY(%s)",
            ("action_required", now, ids),
        )
        values = ", ".join(["(%s, %s, %s, %s, %s, '{}', %s)"] * len(ids))
        params = [p for case_id in ids for p in (case_id, actor.id, scenario.action, "x", "y", now)]
        cursor.execute(
            "INSERT INTO case_events (case_id, actor_id, action, from_status, to_status, "
            f"fields, created_at) VALUES {values}",
            params,
        )
        elapsed = (time.perf_counter() - started) * 1000
        raw.rollback()
        return elapsed

    # Statements per case: the same action on 10 cases and on --cases.
    per_case = {}
    plans = {}
    for scenario in scenarios:
        few = len(service(scenario, 10)[2])
        _, _, statements = service(scenario, args.cases)
        plans[scenario.label] = statements
        per_case[scenario.label] = (len(statements) - few) / (args.cases - 10)
        if per_case[scenario.label] > MAX_PER_CASE:
            raise SystemExit(f"{scenario.label}: {per_case[scenario.label]:.1f} statements a case")
        if args.show_sql:
            print(f"### {scenario.label}: {len(statements)} statements\n")
            shown = {}
            for statement, _ in statements:
                key = re.sub(r"sa_savepoint_\d+", "sa_savepoint_N", " ".join(statement.split()))
                key = key[:140]
                shown[key] = shown.get(key, 0) + 1
            for key, times in shown.items():
                print(f"    {times:>4} x {key}")
            print()

    dialect = engine.dialect.name
    print(f"## Bulk actions, {args.cases} cases among {total:,}, {dialect}\n")
    print(f"- date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"- command: `{shlex.join([os.path.relpath(sys.executable), *sys.argv])}`")
    print(
        f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
        f"Python {sys.version.split()[0]}\n"
    )

    def one_run() -> dict:
        figures = {}
        for scenario in scenarios:
            service_ms, service_cpu, statements = service(scenario, args.cases)
            api_ms, api_cpu, api_statements = api(scenario, args.cases)
            sql_ms = replay(statements)
            floor_ms = floor(scenario, args.cases)
            figures[scenario.label] = {
                "service": service_ms,
                "service_cpu": service_cpu,
                "api": api_ms,
                "api_cpu": api_cpu,
                "api_statements": api_statements,
                "sql": sql_ms,
                "floor": floor_ms,
                "ratio": service_ms / sql_ms,
            }
        return figures

    for _ in range(args.warmup):
        one_run()
    load = [os.getloadavg()[0]]
    results = []
    for run in range(args.runs):
        started = time.perf_counter()
        results.append(one_run())
        load.append(os.getloadavg()[0])
        print(f"  run {run + 1}: {time.perf_counter() - started:.0f} s", file=sys.stderr)

    rows = []
    for scenario in scenarios:
        label = scenario.label
        row = {
            "bulk action": f"{label}, {args.cases} cases",
            "statements": len(plans[label]),
            "per case": per_case[label],
            "API statements": statistics.median(r[label]["api_statements"] for r in results),
        }
        for key, title in (
            ("service", "service ms"),
            ("service_cpu", "service CPU ms"),
            ("api", "API ms"),
            ("api_cpu", "API CPU ms"),
            ("sql", "all SQL ms"),
            ("floor", "set-based floor ms"),
            ("ratio", "service/all SQL"),
        ):
            values = [r[label][key] for r in results]
            row[title] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
            }
        rows.append(row)
    print(
        f"{args.runs} runs after {args.warmup} warm-up; each cell: median of the runs "
        "(min-max of the runs)\n"
    )
    lib.report_table(rows)
    loads = ", ".join(f"{x:.2f}" for x in load)
    print(f"\n- load average (1 min) at start and after each run: {loads}")
    raw.close()
    app_context.pop()


if __name__ == "__main__":
    main()
