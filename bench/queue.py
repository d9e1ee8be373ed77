"""Queue, search and case page through the app, beside the raw SQL they run (issue 2).

    .venv/bin/python bench/queue.py --db-url postgresql://postgres@127.0.0.1:5432/casemgr_bench_queue
    .venv/bin/python bench/queue.py --db-url sqlite:////tmp/benchq/queue.db --runs 3 --requests 50
    .venv/bin/python bench/queue.py --db-url ... --pages workbench   # issue 12: grouped, sorted
    .venv/bin/python bench/queue.py --db-url ... --pages scale   # issue 17: at 1M beside 10M

Needs a database filled by ``bench/generate_cases.py``. In-process, through
Flask's test client with the production configuration: a signed-in analyst
for the screens (the whole request: session, user, query, template), a
bearer token (``casemgr.auth.tokens.issue_token``) for the API.

For each page, each run: ``--warmup`` requests, then ``--requests`` timed
requests (median, p90, min), the same number again timed in CPU (user +
system of this process, ``time.process_time``: the app's server CPU with the
database server's left out) beside as many GETs of a bare one-route Flask app
through the same kind of test client ("bare GET CPU", the floor), then the
same number of replays of **every SQL
statement that one request sent**, with its parameters, through a bare DBAPI
connection to the same database ("all SQL": what the database alone costs
the page), and of its main statement alone ("main SQL": the SELECT of the
page's cases, or of the case), with PostgreSQL's own execution time of that
statement (EXPLAIN ANALYZE, median of 5). The ratio app / all SQL is per
run; the table gives the median and the spread (min-max) over ``--runs``
runs. Statements per request are counted with a
``before_cursor_execute`` listener; the N+1 check repeats the API list at
per_page=10 and per_page=100 and the count must not change. With
``--explain``, the plan of each page's main statement (EXPLAIN (ANALYZE,
BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite) is printed too.
"""

from __future__ import annotations

import os
import sys

# This file is named like the standard library's ``queue``, which the app's
# dependencies import; run as a script, bench/ comes first on sys.path. Load
# the real one before anything else asks for it.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
if sys.modules.get("queue") is None or not hasattr(sys.modules["queue"], "Queue"):
    sys.modules.pop("queue", None)
    import queue  # noqa: F401 - the standard library's, kept in sys.modules
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import argparse  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import lib  # noqa: E402

ANALYST = "analyst1@bench.example.org"
PASSWORD = "bench-password-123"  # noqa: S105 - the generator's throw-away accounts


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


class Recorder:
    """Collects the statements the app sends while ``on``."""

    def __init__(self):
        self.on = False
        self.statements: list[tuple[str, object]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.statements.append((statement, parameters))

    def record(self, fn):
        """The statements of one call of ``fn`` that only reads.

        A call that writes (the API stamps a token's last use at most once a
        minute) is repeated: the counts and the replay describe the usual
        request, and the replay must not write.
        """
        for _ in range(3):
            self.statements = []
            self.on = True
            try:
                fn()
            finally:
                self.on = False
            if all(
                st.lstrip().upper().startswith(("SELECT", "EXPLAIN")) for st, _ in self.statements
            ):
                return list(self.statements)
        raise SystemExit(f"a GET that keeps writing: {self.statements}")


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
            "SESSION_COOKIE_SECURE": False,  # the test client talks plain http
            "REMEMBER_COOKIE_SECURE": False,
        }
    )


def bare_client():
    """A bare Flask app's test client: one route, a text response, nothing else.

    Its CPU per GET, measured in the same run as the app's pages, is the floor
    a casemgr page stands beside (the same test client, the same process).
    """
    from flask import Flask

    bare = Flask("bare")
    bare.add_url_rule("/hello", "hello", lambda: "Hello, world!")
    return bare.test_client()


def sign_in(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"email": ANALYST, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    # production runs behind https, where Flask-WTF also checks the referrer
    response = client.post("/login", data=data, headers={"Referer": "https://localhost/login"})
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed ({response.status_code}); was the generator run?")


def sample(session) -> dict:
    """Cases and hosts to ask for, chosen from the data."""
    from sqlalchemy import func, select

    from casemgr.cases.models import Case, CaseEvent

    newest = session.scalar(select(func.max(Case.id)))
    middle = session.get(Case, newest // 2)
    # the newest case waiting for a takedown that has its history (events)
    page_case = session.scalar(
        select(Case.id)
        .where(Case.status == "notice_sent", Case.id.in_(select(CaseEvent.case_id)))
        .order_by(Case.id.desc())
        .limit(1)
    )
    # a duplicated URL: the search finds the original and its duplicate
    duplicate = session.scalar(
        select(Case).where(Case.duplicate_of_id.is_not(None), Case.id < newest // 2).limit(1)
    )
    typical_host = middle.host
    biggest_host = session.execute(
        select(Case.host, func.count()).group_by(Case.host).order_by(func.count().desc()).limit(1)
    ).first()
    return {
        "url": duplicate.url,
        "host": typical_host,
        "host_count": session.scalar(select(func.count()).where(Case.host == typical_host)),
        "biggest_host": biggest_host[0],
        "biggest_host_count": biggest_host[1],
        "case_id": page_case,
        "cases": session.scalar(select(func.count()).select_from(Case)),
    }


def pages(s: dict) -> list[tuple[str, str, str]]:
    """(label, kind, path); kind is "web" or "api"."""
    from urllib.parse import urlencode

    def q(**args):
        return "?" + urlencode(args)

    return [
        ("queue, first page (open)", "web", "/cases/"),
        (
            "queue, filtered (notice_sent, KH)",
            "web",
            "/cases/" + q(status="notice_sent", hosting_country="KH"),
        ),
        ("search by URL (all)", "web", "/cases/" + q(view="all", q=s["url"])),
        (
            f"search by host ({s['host_count']:,} cases)",
            "web",
            "/cases/" + q(view="all", q=s["host"]),
        ),
        ("case page", "web", f"/cases/{s['case_id']}"),
        ("API list (all)", "api", "/api/v1/cases"),
        ("API list, status=notice_sent", "api", "/api/v1/cases" + q(status="notice_sent")),
        ("API search by URL", "api", "/api/v1/cases" + q(q=s["url"])),
        ("API case", "api", f"/api/v1/cases/{s['case_id']}"),
        # not in the target, for information
        ("queue, all cases", "web", "/cases/" + q(view="all")),
        (
            f"search by host (biggest, {s['biggest_host_count']:,} cases)",
            "web",
            "/cases/" + q(view="all", q=s["biggest_host"]),
        ),
        ("queue, open, page 100", "web", "/cases/" + q(page=100)),
        ("queue, open, KH (any state)", "web", "/cases/" + q(hosting_country="KH")),
    ]


SCALE_PAGES = ("queue, first page (open)", "search by URL (all)", "case page")


def workbench_pages(s: dict) -> list[tuple[str, str, str]]:
    """The queue screen of issue 12: grouped, sorted, one host, a case's neighbours."""
    from urllib.parse import urlencode

    def q(**args):
        return "?" + urlencode(args)

    return [
        ("grouped by host (open)", "web", "/cases/" + q(group="host")),
        ("grouped by host, unassigned", "web", "/cases/" + q(group="host", view="unassigned")),
        ("grouped by host, overdue", "web", "/cases/" + q(group="host", view="overdue")),
        ("grouped by host, notice_sent", "web", "/cases/" + q(group="host", status="notice_sent")),
        ("grouped by submission (open)", "web", "/cases/" + q(group="submission")),
        ("queue, first page (open)", "web", "/cases/"),
        ("sorted by due (open)", "web", "/cases/" + q(sort="due")),
        ("sorted by state (open)", "web", "/cases/" + q(sort="state")),
        ("sorted by state, page 100", "web", "/cases/" + q(sort="state", page=100)),
        ("sorted by host (open)", "web", "/cases/" + q(sort="host")),
        ("overdue, most overdue first", "web", "/cases/" + q(view="overdue")),
        (
            f"one host's open cases ({s['biggest_host']})",
            "web",
            "/cases/" + q(host=s["biggest_host"]),
        ),
        (
            "case page, from the queue by due",
            "web",
            f"/cases/{s['case_id']}" + q(**{"from": "view=open&sort=due"}),
        ),
        # not in the target, for information
        ("grouped by host, all cases", "web", "/cases/" + q(group="host", view="all")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", help="only pages whose label contains this")
    parser.add_argument(
        "--pages",
        choices=("queue", "workbench", "all", "scale"),
        default="queue",
        help="the pages of issue 2 (queue, search, case, API), of issue 12 (workbench), both, "
        "or those compared at 1M and 10M cases (issue 17: first page, search by URL, case page)",
    )
    parser.add_argument("--explain", action="store_true", help="print each main plan")
    parser.add_argument("--show-sql", action="store_true", help="print each page's statements")
    args = parser.parse_args()

    from sqlalchemy import event

    from casemgr.auth.models import User
    from casemgr.auth.tokens import issue_token
    from casemgr.extensions import db

    app = make_app(args.db_url)
    recorder = Recorder()
    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", recorder)
        user = db.session.query(User).filter_by(email=ANALYST).one()
        token = issue_token(db.session, user, now=datetime.now(UTC), label="bench")
        db.session.commit()
        s = sample(db.session)
        db.session.remove()
        raw = engine.raw_connection()  # the baseline's own connection
        dialect = engine.dialect.name

    lib.print_header(f"Case queue and search, {s['cases']:,} cases, {engine.dialect.name}")
    print(
        f"- samples: URL `{s['url']}`; host `{s['host']}` ({s['host_count']:,} cases); "
        f"biggest host `{s['biggest_host']}` ({s['biggest_host_count']:,}); "
        f"case page id {s['case_id']}\n"
    )
    web = app.test_client()
    sign_in(web)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def request(kind: str, path: str):
        client, extra = (web, {}) if kind == "web" else (api, {"headers": headers})
        response = client.get(path, **extra)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code}\n{response.get_data()[:500]}")
        return response

    def replay(statements):
        cursor = raw.cursor()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        raw.rollback()

    listed = {
        "queue": pages(s),
        "workbench": workbench_pages(s),
        "all": pages(s) + workbench_pages(s),
        "scale": [p for p in pages(s) if p[0] in SCALE_PAGES],
    }[args.pages]
    chosen = [p for p in listed if not args.only or args.only in p[0]]
    plans = {}
    for label, kind, path in chosen:
        statements = recorder.record(lambda kind=kind, path=path: request(kind, path))
        plans[label] = statements
        if args.show_sql:
            print(f"### {label}: GET {path}\n")
            for statement, parameters in statements:
                print(f"    {' '.join(statement.split())}\n      -- {parameters}")
            print()

    # N+1 check: a page of 100 must cost the statements a page of 10 costs.
    few = len(recorder.record(lambda: request("api", "/api/v1/cases?per_page=10")))
    many = len(recorder.record(lambda: request("api", "/api/v1/cases?per_page=100")))
    print(f"- N+1 check: API list per_page=10: {few} statements, per_page=100: {many}\n")
    if few != many:
        raise SystemExit("statement count grows with the page size: N+1")

    if args.explain:
        explain(raw, engine.dialect.name, plans)

    bare = bare_client()

    def one_run() -> dict:
        figures = {}
        for label, kind, path in chosen:
            bare_cpu = statistics.median(lib.cpu_calls(lambda: bare.get("/hello"), args.requests))
            for _ in range(args.warmup):
                request(kind, path)
                replay(plans[label])
            main = [main_statement(plans[label])]
            app_ms = lib.time_calls(lambda kind=kind, path=path: request(kind, path), args.requests)
            app_cpu = statistics.median(
                lib.cpu_calls(lambda kind=kind, path=path: request(kind, path), args.requests)
            )
            sql_ms = lib.time_calls(lambda label=label: replay(plans[label]), args.requests)
            main_ms = lib.time_calls(lambda main=main: replay(main), args.requests)
            figures[label] = {
                "median": statistics.median(app_ms),
                "p90": p90(app_ms),
                "min": min(app_ms),
                "sql": statistics.median(sql_ms),
                "main": statistics.median(main_ms),
                "ratio": statistics.median(app_ms) / statistics.median(sql_ms),
                "cpu": app_cpu,
                "bare_cpu": bare_cpu,
                "cpu_ratio": app_cpu / bare_cpu,
            }
            if dialect == "postgresql":
                figures[label]["explain"] = statistics.median(
                    explain_ms(raw, *main[0]) for _ in range(5)
                )
        return figures

    load = [os.getloadavg()[0]]
    results = []
    for run in range(args.runs):
        started = time.perf_counter()
        results.append(one_run())
        load.append(os.getloadavg()[0])
        print(f"  run {run + 1}: {time.perf_counter() - started:.0f} s", file=sys.stderr)

    if not results:  # --runs 0: statements, plans and the N+1 check only
        return
    rows = []
    for label, _, _ in chosen:
        row = {"page": label, "statements": len(plans[label])}
        for key, title in (
            ("median", "app median ms"),
            ("p90", "app p90 ms"),
            ("min", "app min ms"),
            ("cpu", "app CPU ms"),
            ("bare_cpu", "bare GET CPU ms"),
            ("cpu_ratio", "CPU app/bare"),
            ("sql", "all SQL ms"),
            ("main", "main SQL ms"),
            ("explain", "main EXPLAIN ANALYZE ms"),
            ("ratio", "app/all SQL"),
        ):
            if key not in results[0][label]:
                continue
            values = [r[label][key] for r in results]
            row[title] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
            }
        rows.append(row)
    print(
        f"{args.runs} runs x {args.requests} requests after {args.warmup} warm-up; "
        "each cell: median of the runs (min-max of the runs)\n"
    )
    lib.report_table(rows)
    loads = ", ".join(f"{x:.2f}" for x in load)
    print(f"\n- load average (1 min) at start and after each run: {loads}")
    raw.close()


def explain_ms(raw, statement, parameters) -> float:
    """PostgreSQL's own execution time of one statement (EXPLAIN ANALYZE), in ms."""
    cursor = raw.cursor()
    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
    plan = cursor.fetchone()[0]
    raw.rollback()
    return plan[0]["Execution Time"]


def main_statement(statements):
    """The statement that reads the page: cases (or groups of them) in order with a
    LIMIT, else the first on cases."""
    reading = [
        st for st in statements if st[0].lstrip().startswith(("SELECT cases.", "SELECT by_state."))
    ]
    ordered = [st for st in reading if "ORDER BY" in st[0] and "LIMIT" in st[0]]
    return (ordered or reading or [None])[0]


def explain(raw, dialect: str, plans: dict) -> None:
    """The plan of each page's main statement and of its count, if it has one."""
    for label, statements in plans.items():
        counts = [st for st in statements if st[0].lstrip().startswith("SELECT count(")]
        for statement, parameters in [s for s in (main_statement(statements), *counts) if s]:
            cursor = raw.cursor()
            if dialect == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            lines = [" | ".join(str(x) for x in row) for row in cursor.fetchall()]
            raw.rollback()
            text = " ".join(statement.split())
            if text.startswith("SELECT cases."):
                text = "SELECT cases.* " + text[text.index(" FROM ") + 1 :]
            print(f"### {label}\n\n    {text[:600]}\n    -- {parameters}\n")
            print("\n".join("    " + line for line in lines) + "\n")


if __name__ == "__main__":
    main()
