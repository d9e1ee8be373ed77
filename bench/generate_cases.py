"""Fill a migrated, empty casemgr database with N synthetic cases (default 1,000,000).

    createdb -h 127.0.0.1 -U postgres casemgr_bench_queue
    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casemgr_bench_queue
    .venv/bin/flask --app wsgi db upgrade
    .venv/bin/python bench/generate_cases.py                 # 1,000,000 cases
    .venv/bin/python bench/generate_cases.py --cases 100000 --events-for 5000
    .venv/bin/python bench/generate_cases.py --cases 10000000 --now 2026-12-01T12:00:00Z

Works on PostgreSQL and SQLite (``DATABASE_URL=sqlite:////abs/path/bench.db``).

What it makes (the same rows on both databases for the same ``--cases`` and
``--now``: every choice comes from md5 of the row number, never from a RNG):

- staff (1 admin, 2 supervisors, 8 analysts, 1 partner-gateway API account;
  password ``bench-password-123``) and a directory (2 hosting providers in each
  of 20 countries, partner hotlines in 13, the national and the international
  police), created through the app's services;
- submissions: 1 or 2 cases each (about 1.4 on average), 55 % from the public,
  25 % from partners (with an external reference), the rest e-mail, phone,
  police, staff; received over the 3 years before ``--now``, ids in time order;
- cases: ~10 % open, concentrated in recent months as in a real queue (90 % of
  the newest 0.5 % are open, 5 % of those older than 15 %), spread over the 7
  open states with older open cases mostly waiting on somebody else
  (notice_sent, forwarded, with_police); ~8 % closed as duplicates of an
  earlier case with the same URL; the rest closed (takedown confirmed after a
  notice, a partner or the police; not illegal; out of remit; content
  unavailable; the few closed among the newest were mostly closed at
  assessment). Every timestamp, deadline, reminder count, assignee,
  organisation and ``version`` follows the state, as the workflow would have
  left it (times capped at ``--now``). URLs are on ~N/50 hosts under
  reserved names (example.com/.net/.org, .example, .test) with a skewed
  popularity (the biggest host has ~4 % of all cases); ``url_hash`` and
  ``host`` are what
  ``casemgr.cases.receiving.url_hash`` and ``casemgr.intake.urls.host_of`` give;
- case events for every case (``--events-for N``: the newest N only): the
  workflow path that leads to the case's state, and what its letters left
  (``referral_sent``, ``reminder_sent``, ``escalated``; ``send_notice`` names
  its notice), in time order; about 5 per case;
- letters in proportion (``bench/generate_letters.py``): one takedown notice
  per provider per day for the cases sent that day, one referral per partner
  hotline or police unit per day, the reminders each case's
  ``reminder_count`` says it got and, after two unanswered reminders, the
  escalation that ended its chasing (``reminder_count`` 3,
  ``next_reminder_at`` NULL), with their ``notice_cases`` lines
  (``step_at`` as the app computes it, so at ``--now`` the notice run owes no
  referral and the reminder run finds nothing due; only the notice_pending
  cases wait for their notice). Every letter stores the bytes of ONE
  real letter rendered once (~30 kB; SHA-256 and size match them): a real PDF
  per row would take hours and tens of GB at 10M cases. A police hold's next
  review is the first 30-day mark after ``--now``.

Everything after the directory is INSERT ... SELECT in chunks of 100,000
rows (cases, by case number, for the letters' lines and the events), so the
process's memory does not grow with ``--cases`` (~150 MB on PostgreSQL; on
SQLite the page cache set below adds ~400 MB); one statement makes every
letter (a GROUP BY over all cases, on the server). Time and peak memory at
1M and 10M cases: bench/README.md, "Ten million cases".

The secondary indexes of cases, case_events and notice_cases are dropped
during the load and rebuilt after it (as bulk loads do); ANALYZE runs at the
end (VACUUM ANALYZE on PostgreSQL, so index-only scans see an all-visible
table as in a database that autovacuum has looked after).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import time
from bisect import bisect_left
from datetime import UTC, datetime, timedelta

from generate_letters import Letters, counters, render_pdf, store_pdf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PASSWORD = "bench-password-123"  # printed on purpose: a throw-away benchmark database
YEARS = 3
SPAN = YEARS * 365 * 86400  # seconds
CHUNK = 100_000

# --- the model: weights are integers; a draw is a 32-bit integer from md5.

BAND_PER_MILLE = (5, 20, 60, 150)  # bands by age: newest 0.5 %, 2 %, 6 %, 15 %, the rest
OPEN_BP = (9000, 7000, 6000, 3000, 500)  # chance (basis points) that a case is open, by band
DUP_BP = 1600  # of even-numbered cases: closed as a duplicate of an earlier case (~8 %)
OPEN_STATES = {
    0: (
        ("new", 40),
        ("triage", 25),
        ("action_required", 15),
        ("notice_pending", 8),
        ("notice_sent", 6),
        ("forwarded", 3),
        ("with_police", 3),
    ),
    1: (
        ("new", 8),
        ("triage", 12),
        ("action_required", 15),
        ("notice_pending", 5),
        ("notice_sent", 35),
        ("forwarded", 12),
        ("with_police", 13),
    ),
    2: (
        ("new", 1),
        ("triage", 2),
        ("action_required", 4),
        ("notice_pending", 2),
        ("notice_sent", 46),
        ("forwarded", 20),
        ("with_police", 25),
    ),
}
CLOSED_PATHS = (
    ("td_notice", 455),
    ("td_partner", 140),
    ("td_police", 105),
    ("not_illegal", 170),
    ("out_of_remit", 70),
    ("content_unavailable", 60),
)
# The few closed among the newest cases were closed quickly: at assessment, mostly.
CLOSED_PATHS_NEWEST = (
    ("td_notice", 10),
    ("not_illegal", 50),
    ("out_of_remit", 25),
    ("content_unavailable", 15),
)
COUNTRIES = (
    ("US", 20),
    ("NL", 12),
    ("KH", 10),
    ("DE", 7),
    ("RU", 7),
    ("FR", 5),
    ("GB", 4),
    ("HK", 4),
    ("VN", 4),
    ("TH", 4),
    ("CA", 3),
    ("SG", 3),
    ("UA", 3),
    ("SE", 3),
    ("CZ", 3),
    ("JP", 2),
    ("BR", 2),
    ("LU", 2),
    ("RO", 2),
    ("MY", 0),  # a country with providers and no cases: filters that find nothing
)
HOTLINE_COUNTRIES = ("US", "NL", "DE", "FR", "GB", "CA", "JP", "TH", "BR", "SE", "CZ", "LU", "RO")
MEDIA = (("image", 55), ("video", 25), ("mixed", 15), ("other", 5))
AGE_GROUPS = (("prepubescent", 60), ("pubescent", 30), ("infant_toddler", 10))
SITE_BY_PATTERN = ("image_host", "file_host", "forum", "website", "blog")
SOURCES = (
    ("public", 55),
    ("partner", 25),
    ("email", 8),
    ("phone", 3),
    ("police", 4),
    ("staff", 5),
)

OPEN_PATHS = ("new", "triage", "action_required", "notice_pending", "notice_sent")
OPEN_PATHS += ("forwarded", "with_police")
TD_PATHS = ("td_notice", "td_partner", "td_police")
ASSESSED = ("action_required", "notice_pending", "notice_sent", "forwarded", "with_police")
ASSESSED += TD_PATHS + ("not_illegal", "out_of_remit")
NOTICED = ("notice_pending", "notice_sent", "td_notice")
SENT = ("notice_sent", "td_notice")
FORWARDED = ("forwarded", "td_partner")
REFERRED = ("with_police", "td_police")
ACTED = NOTICED + FORWARDED + REFERRED
CHASED = ("notice_sent", "forwarded")  # and with_police without a hold

# The workflow path to each final state: (action, from, to, time column, actor).
_R = ("receive", None, "new", "received_at", "submitter")
_A = ("assign", "new", "triage", "assigned_at", "assignee")
_E = ("assess", "triage", "action_required", "assessed_at", "assignee")
_N = ("request_notice", "action_required", "notice_pending", "notice_requested_at", "assignee")
_S = ("send_notice", "notice_pending", "notice_sent", "notice_sent_at", "system")
_F = ("forward_to_partner", "action_required", "forwarded", "forwarded_at", "assignee")
_P = ("refer_to_police", "action_required", "with_police", "referred_at", "assignee")


def _confirm(source: str) -> tuple:
    return ("confirm_takedown", source, "closed", "closed_at", "assignee")


STEPS: dict[str, list[tuple]] = {
    "dup": [("receive", None, "closed", "received_at", "submitter")],
    "new": [_R],
    "triage": [_R, _A],
    "action_required": [_R, _A, _E],
    "notice_pending": [_R, _A, _E, _N],
    "notice_sent": [_R, _A, _E, _N, _S],
    "forwarded": [_R, _A, _E, _F],
    "with_police": [_R, _A, _E, _P],
    "td_notice": [_R, _A, _E, _N, _S, _confirm("notice_sent")],
    "td_partner": [_R, _A, _E, _F, _confirm("forwarded")],
    "td_police": [_R, _A, _E, _P, _confirm("with_police")],
    "not_illegal": [_R, _A, ("assess", "triage", "closed", "assessed_at", "assignee")],
    "out_of_remit": [_R, _A, ("assess", "triage", "closed", "assessed_at", "assignee")],
    "content_unavailable": [
        _R,
        _A,
        ("close_unavailable", "triage", "closed", "closed_at", "assignee"),
    ],
}
RESOLUTION = {"dup": "duplicate", "not_illegal": "not_illegal", "out_of_remit": "out_of_remit"}
RESOLUTION |= {"content_unavailable": "content_unavailable"}
RESOLUTION |= {path: "takedown_confirmed" for path in TD_PATHS}


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - a spreader, not security


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- SQL per dialect


class Dialect:
    def __init__(self, name: str):
        self.name = name
        self.pg = name == "postgresql"

    def h32(self, hex8: str) -> str:
        """A 32-bit integer from 8 hex digits."""
        return f"('x' || {hex8})::bit(32)::bigint" if self.pg else f"h32({hex8})"

    def md5(self, text: str) -> str:
        return f"md5({text})"

    def sha256(self, text: str) -> str:
        if self.pg:
            return f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"
        return f"sha256hex({text})"

    def ts(self, epoch: str) -> str:
        """A stored timestamp from epoch seconds (SQLAlchemy's SQLite format on SQLite)."""
        if self.pg:
            return f"to_timestamp({epoch})"
        return f"(strftime('%Y-%m-%d %H:%M:%S', {epoch}, 'unixepoch') || '.000000')"

    def least(self, *args: str) -> str:
        return f"{'least' if self.pg else 'min'}({', '.join(args)})"

    def greatest(self, *args: str) -> str:
        return f"{'greatest' if self.pg else 'max'}({', '.join(args)})"

    def pad6(self, number: str) -> str:
        if self.pg:
            return f"lpad(CAST({number} AS text), greatest(6, length(CAST({number} AS text))), '0')"
        return f"printf('%06d', {number})"

    def series(self, lo: int, hi: int) -> str:
        if self.pg:
            return f"g(i) AS (SELECT generate_series(CAST({lo} AS bigint), {hi}))"
        return f"g(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM g WHERE i < {hi})"

    @property
    def fence(self) -> str:
        return "OFFSET 0" if self.pg else "LIMIT -1 OFFSET 0"

    def with_(self) -> str:
        return "WITH" if self.pg else "WITH RECURSIVE"

    def json_object(self, *pairs: str) -> str:
        return f"{'json_build_object' if self.pg else 'json_object'}({', '.join(pairs)})"

    def json_strip_nulls(self, obj: str) -> str:
        return f"json_strip_nulls({obj})" if self.pg else f"json_patch('{{}}', {obj})"

    def json_bool(self, expr: str) -> str:
        return expr if self.pg else f"json(CASE WHEN {expr} THEN 'true' ELSE 'false' END)"

    def iso(self, column: str) -> str:
        if self.pg:
            return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""
        return f"strftime('%Y-%m-%dT%H:%M:%S+00:00', {column})"


def draw(d: Dialect, hexcol: str, k: int) -> str:
    """The k-th 32-bit draw (0-3) of an md5 hex column."""
    return d.h32(f"substr({hexcol}, {1 + 8 * k}, 8)")


def sql_pick(draw_expr: str, table) -> str:
    total = sum(weight for _, weight in table)
    parts, cumulative = [], 0
    for value, weight in table:
        if weight == 0:
            continue
        cumulative += weight
        parts.append(f"WHEN {draw_expr} % {total} < {cumulative} THEN {sql_value(value)}")
    return "CASE " + " ".join(parts) + " END"


def py_pick(draw_value: int, table):
    total = sum(weight for _, weight in table)
    cumulative = 0
    for value, weight in table:
        cumulative += weight
        if weight and draw_value % total < cumulative:
            return value
    raise AssertionError("unreachable")


def sql_value(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def sql_in(column: str, values) -> str:
    return f"{column} IN ({', '.join(sql_value(v) for v in values)})"


def sql_map(key: str, mapping: dict, default="NULL") -> str:
    whens = " ".join(f"WHEN {sql_value(k)} THEN {sql_value(v)}" for k, v in mapping.items())
    return f"CASE {key} {whens} ELSE {default} END"


# --- the plan: sizes, times, year boundaries (Python, shared by both dialects)


class Plan:
    def __init__(self, cases: int, now: datetime, prefix: str):
        self.n = cases
        self.s = max(1, round(cases / 1.4))  # submissions
        self.hosts = max(100, cases // 50)
        self.now = int(now.timestamp())
        self.start = self.now - SPAN
        self.step = max(1, SPAN // self.s)
        self.prefix = prefix
        first_year = datetime.fromtimestamp(self.start, UTC).year
        last_year = datetime.fromtimestamp(self.now, UTC).year
        self.years = list(range(first_year, last_year + 1))
        # First submission / case number of each year (times grow with the number).
        self.first_j = {}
        self.first_i = {}
        for year in self.years:
            boundary = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
            j = bisect_left(range(1, self.s + 1), boundary, key=self.submission_time) + 1
            self.first_j[year] = j
            self.first_i[year] = bisect_left(range(1, self.n + 1), j, key=self.submission_of) + 1

    def submission_of(self, i: int) -> int:
        return ((i - 1) * self.s) // self.n + 1

    def submission_time(self, j: int) -> int:
        jitter = int(md5_hex(f"{j}:s")[:8], 16) % self.step
        return self.start + ((j - 1) * SPAN) // self.s + jitter

    def counters(self) -> dict[str, int]:
        """reference_counters rows after the load: the last number of each year."""
        values = {}
        for index, year in enumerate(self.years):
            nxt = self.years[index + 1] if index + 1 < len(self.years) else None
            last_j = (self.first_j[nxt] - 1) if nxt else self.s
            last_i = (self.first_i[nxt] - 1) if nxt else self.n
            if last_j >= self.first_j[year]:
                values[f"submission-{year}"] = last_j - self.first_j[year] + 1
            if last_i >= self.first_i[year]:
                values[f"case-{year}"] = last_i - self.first_i[year] + 1
        return values

    def sql_reference(self, d: Dialect, number: str, first: dict[int, int], middle: str) -> str:
        whens = []
        for year in reversed(self.years):
            seq = d.pad6(f"{number} - {first[year]} + 1")
            whens.append(
                f"WHEN {number} >= {first[year]} THEN '{self.prefix}-{middle}{year}-' || {seq}"
            )
        return "CASE " + " ".join(whens) + " END"


# --- organisations and staff, through the app's services


def make_directory_and_staff(session, now: datetime) -> dict:
    from casemgr.auth import accounts
    from casemgr.directory.inputs import OrganisationInput
    from casemgr.directory.operations import create_organisation
    from casemgr.domain import SYSTEM_ACTOR, Role

    def org(kind, name, country):
        slug = name.lower().replace(" ", "-").replace("(", "").replace(")", "")
        return create_organisation(
            session,
            OrganisationInput(
                kind=kind, name=name, country=country, email=f"abuse@{slug}.example.org"
            ),
            now=now,
            actor=SYSTEM_ACTOR,
        ).id

    ids: dict = {"providers": {}, "hotlines": {}}
    for country, _ in COUNTRIES:
        ids["providers"][country] = [
            org("hosting_provider", f"Hosting {country} {k}", country) for k in (1, 2)
        ]
    for country in HOTLINE_COUNTRIES:
        ids["hotlines"][country] = org("hotline", f"Hotline {country}", country)
    org("registrar", "Registrar KH", "KH")
    org("registrar", "Registrar US", "US")
    ids["police_kh"] = org("police", "National Police Cybercrime Unit", "KH")
    ids["police_int"] = org("police", "International Police Channel", None)

    def user(email, name, role):
        return accounts.create_user(
            session,
            accounts.AccountInput(email=email, name=name, role=role, password=PASSWORD),
            now=now,
            actor=SYSTEM_ACTOR,
        ).id

    user("admin@bench.example.org", "Ada Admin", Role.ADMIN)
    staff = [
        user(f"supervisor{k}@bench.example.org", f"Supervisor {k}", Role.SUPERVISOR) for k in (1, 2)
    ]
    staff += [
        user(f"analyst{k}@bench.example.org", f"Analyst {k}", Role.ANALYST) for k in range(1, 9)
    ]
    ids["staff"] = staff
    ids["partner"] = user("partner-gateway@bench.example.org", "Partner gateway (API)", "analyst")
    session.flush()
    return ids


# --- the rows


def submissions_sql(d: Dialect, plan: Plan, ids: dict, lo: int, hi: int) -> str:
    staff = sql_map(
        "(ds2 % " + str(len(ids["staff"])) + ")", dict(enumerate(ids["staff"])), default="NULL"
    )
    return f"""
{d.with_()} {d.series(lo, hi)}
INSERT INTO submissions (id, reference, source, received_at, description, seen_where,
    external_reference, submitted_by_id, reporter_contact, feedback_requested, contact_purged_at)
SELECT j, {plan.sql_reference(d, "j", plan.first_j, "S-")}, source,
    {d.ts(f"{plan.start} + ((j - 1) * {SPAN}) / {plan.s} + ds0 % {plan.step}")},
    CASE source WHEN 'public' THEN '' ELSE 'Received by ' || source END,
    NULL,
    CASE source WHEN 'partner' THEN 'EXT-' || CAST(j AS text) END,
    CASE source WHEN 'public' THEN NULL WHEN 'partner' THEN {ids["partner"]} ELSE {staff} END,
    NULL, {"false" if d.pg else "0"}, NULL
FROM (
    SELECT j, ds0, ds2, {sql_pick("ds1", SOURCES)} AS source
    FROM (
        SELECT i AS j, {draw(d, "hs", 0)} AS ds0, {draw(d, "hs", 1)} AS ds1,
            {draw(d, "hs", 2)} AS ds2
        FROM (SELECT i, {d.md5("CAST(i AS text) || ':s'")} AS hs FROM g) g1
    ) g2
) g3
"""


def layered(d: Dialect, base: str, layers: list[list[str]]) -> tuple[str, str]:
    """CTEs: ``base``, then each layer adds its expressions (each may use the ones before).

    Returns (the CTE definitions, the name of the last one). Every CTE body is
    fenced (OFFSET 0) so that the planners do not flatten the layers into one
    and evaluate an expression again at each use.
    """
    ctes = [f"l0 AS ({base} {d.fence})"]
    for number, expressions in enumerate(layers, 1):
        ctes.append(
            f"l{number} AS (SELECT *, {', '.join(expressions)} FROM l{number - 1} {d.fence})"
        )
    return ",\n".join(ctes), f"l{len(layers)}"


def cases_sql(d: Dialect, plan: Plan, ids: dict, lo: int, hi: int) -> str:
    n, s, now = plan.n, plan.s, str(plan.now)
    band = " ".join(
        f"WHEN pos * 1000 < {n} * {limit} THEN {k}" for k, limit in enumerate(BAND_PER_MILLE)
    )
    open_pick = "CASE band WHEN 0 THEN {} WHEN 1 THEN {} ELSE {} END".format(
        *(sql_pick("da3", OPEN_STATES[k]) for k in (0, 1, 2))
    )
    providers = ids["providers"]
    provider = "CASE (dd1 / 1000) % 2 WHEN 0 THEN {} ELSE {} END".format(
        sql_map("country", {c: v[0] for c, v in providers.items()}),
        sql_map("country", {c: v[1] for c, v in providers.items()}),
    )
    hotline = sql_map("country", ids["hotlines"], default=str(ids["hotlines"]["US"]))
    staff = ids["staff"]
    assignee = sql_map(f"((db2 / 14400) % {len(staff)})", dict(enumerate(staff)))
    police = f"CASE WHEN country = 'KH' THEN {ids['police_kh']} ELSE {ids['police_int']} END"
    chased = f"({sql_in('path', CHASED)} OR (path = 'with_police' AND NOT hold))"

    h = "CAST(h AS text)"
    dn = "CAST(dn % 1000000 AS text) || '?page=' || CAST(1 + (dn / 1000000) % 40 AS text)"
    patterns = (  # (host, scheme, path) by h % 5; reserved names only
        (f"'img' || {h} || '.example.com'", "https", "'/i/' || tok || '.jpg'"),
        (f"'files' || {h} || '.example.net'", "https", "'/f/' || tok"),
        (f"'forum' || {h} || '.example.org'", "http", f"'/t/' || {dn}"),
        (f"'www.site' || {h} || '.example'", "https", "'/gallery/' || tok || '/'"),
        (
            f"'blog' || {h} || '.test'",
            "https",
            "'/' || CAST(2015 + dn % 12 AS text) || '/' || tok || '.html'",
        ),
    )
    host = "CASE h % 5 " + " ".join(f"WHEN {k} THEN {p[0]}" for k, p in enumerate(patterns))
    url = "CASE h % 5 " + " ".join(
        f"WHEN {k} THEN '{p[1]}://' || host || {p[2]}" for k, p in enumerate(patterns)
    )
    base = (
        f"SELECT i, j, {n} - i AS pos, "
        + ", ".join(f"{d.md5(f'CAST(i AS text) || {x!r}')} AS h{x[1]}" for x in (":a", ":b"))
        + ", "
        + ", ".join(f"{d.md5(f'CAST(i AS text) || {x!r}')} AS h{x[1]}" for x in (":c", ":d"))
        + f", {d.md5('CAST(j AS text) || {}'.format(repr(':s')))} AS hs"
        + f" FROM (SELECT i, ((i - 1) * {s}) / {n} + 1 AS j FROM g) g0"
    )
    least = d.least
    hk = d.md5("CAST(COALESCE(orig, i) AS text) || ':u'")
    ctes, last = layered(
        d,
        base,
        [
            # 32-bit draws: da* from ha, db* from hb, ...
            [f"{draw(d, 'h' + x, k)} AS d{x}{k}" for x in "abcd" for k in range(4)],
            [
                f"(i % 2 = 0 AND i > 2 AND da0 % 10000 < {DUP_BP}) AS is_dup",
                f"CASE {band} ELSE {len(BAND_PER_MILLE)} END AS band",
                f"{plan.start} + ((j - 1) * {SPAN}) / {s} + {draw(d, 'hs', 0)} % {plan.step}"
                " AS rcv",
            ],
            [
                f"CASE WHEN is_dup THEN i - 1 - 2 * (da1 % {least('2500', '(i - 1) / 2')}) END"
                " AS orig"
            ],
            [f"{hk} AS hk"],
            [
                "CASE WHEN is_dup THEN 'dup' "
                f"WHEN da2 % 10000 < {sql_map('band', dict(enumerate(OPEN_BP)))} THEN {open_pick} "
                f"WHEN band = 0 THEN {sql_pick('db0', CLOSED_PATHS_NEWEST)} "
                f"ELSE {sql_pick('db0', CLOSED_PATHS)} END AS path",
                f"{draw(d, 'hk', 0)} % 65536 AS a16",
                "substr(hk, 9, 12) AS tok",
                f"{draw(d, 'hk', 3)} AS dn",
            ],
            [
                f"{sql_in('path', ASSESSED)} AND path NOT IN ('not_illegal', 'out_of_remit')"
                " AS illegal",
                f"CASE WHEN {sql_in('path', ASSESSED)} THEN {sql_pick('dd1', COUNTRIES)} END"
                " AS country",
                # host popularity: h = hosts * u^3 (the first hosts are the big ones)
                f"a16 * a16 / 65536 * a16 / 65536 * {plan.hosts} / 65536 AS h",
            ],
            [
                f"CASE WHEN path NOT IN ('dup', 'new') THEN {least('rcv + 60 + db2 % 14400', now)}"
                " END AS t_as",
                f"CASE WHEN path NOT IN ('dup', 'new') THEN {assignee} END AS assignee_id",
                "CASE WHEN illegal THEN CASE WHEN dd2 % 10 < 8 THEN 'illegal_baseline' "
                "ELSE 'illegal_national' END "
                "WHEN path IN ('not_illegal', 'out_of_remit') THEN path END AS classification",
                f"CASE WHEN illegal THEN {sql_pick('dd3', MEDIA)} END AS media_type",
                "CASE WHEN illegal THEN "
                f"{sql_map('h % 5', dict(enumerate(SITE_BY_PATTERN)))} END AS site_type",
                f"CASE WHEN illegal THEN {sql_pick('db1', AGE_GROUPS)} END AS age_group",
                "CASE WHEN country IS NOT NULL THEN CASE (dd3 / 100) % 3 WHEN 0 THEN '192.0.2.' "
                "WHEN 1 THEN '198.51.100.' ELSE '203.0.113.' END "
                "|| CAST((dd3 / 300) % 254 + 1 AS text) END AS hosting_ip",
                f"CASE WHEN {sql_in('path', NOTICED)} THEN {provider} END AS provider_id",
                f"CASE WHEN {sql_in('path', FORWARDED)} THEN {hotline} END AS partner_id",
                f"CASE WHEN {sql_in('path', REFERRED)} THEN {police} END AS police_id",
                "(path = 'with_police' AND dd0 % 10 < 3) AS hold",
                f"{host} END AS host",
            ],
            [f"{least('t_as + 600 + db3 % 86400', now)} AS t_x", f"{url} END AS url"],
            [
                f"CASE WHEN {sql_in('path', ASSESSED)} THEN t_x END AS t_ev",
                f"CASE WHEN {sql_in('path', ACTED)} THEN {least('t_x + 300 + dc0 % 7200', now)}"
                " END AS t_act",
            ],
            [
                f"CASE WHEN {sql_in('path', SENT)} THEN {least('t_act + 60 + dc1 % 3600', now)}"
                " END AS t_sent"
            ],
            [
                f"CASE WHEN {sql_in('path', TD_PATHS)} THEN "
                f"{least('COALESCE(t_sent, t_act) + 3600 + dc2 % 604800', now)} END AS t_rm"
            ],
            [
                "CASE WHEN path = 'dup' THEN rcv "
                f"WHEN {sql_in('path', TD_PATHS)} THEN {least('t_rm + 60 + dc3 % 86400', now)} "
                "WHEN path IN ('not_illegal', 'out_of_remit', 'content_unavailable') THEN t_x "
                "END AS t_closed",
                "CASE WHEN path IN ('new', 'triage') THEN rcv + 86400 "
                "WHEN path = 'notice_sent' THEN t_sent + 259200 "
                "WHEN path = 'forwarded' THEN t_act + 604800 "
                "WHEN path = 'with_police' AND NOT hold THEN t_act + 259200 END AS due",
            ],
            [
                f"CASE WHEN {chased} THEN CASE WHEN due >= {now} THEN 0 "
                f"ELSE {least('3', f'1 + ({now} - due) / 259200')} END ELSE 0 END AS rc"
            ],
        ],
    )
    # A police hold is reviewed every 30 days: the next review after --now.
    hold_next = f"t_act + 2592000 * (1 + ({now} - t_act) / 2592000)"
    times = ("rcv", "t_as", "t_ev", "t_act", "t_sent", "t_rm", "t_closed")
    updated = d.greatest(*[f"COALESCE({t}, 0)" for t in times])
    ts = d.ts
    return f"""
{d.with_()} {d.series(lo, hi)},
{ctes}
INSERT INTO cases (id, reference, submission_id, url, url_hash, host, status, resolution,
    classification, media_type, site_type, hosting_country, age_group, hosting_ip,
    assignee_id, duplicate_of_id, provider_id, partner_id, police_id, police_hold,
    received_at, assessment_due_at, assigned_at, assessed_at, first_action_at,
    notice_requested_at, notice_sent_at, forwarded_at, referred_at, hold_since, removed_at,
    closed_at, due_at, next_reminder_at, reminder_count, updated_at, version)
SELECT i, {plan.sql_reference(d, "i", plan.first_i, "")}, j, url, {d.sha256("url")}, host,
    CASE WHEN {sql_in("path", OPEN_PATHS)} THEN path ELSE 'closed' END,
    {sql_map("path", RESOLUTION)},
    classification, media_type, site_type, country, age_group, hosting_ip,
    assignee_id, orig, provider_id, partner_id, police_id, hold,
    {ts("rcv")}, {ts("rcv + 86400")}, {ts("t_as")}, {ts("t_ev")}, {ts("t_act")},
    {ts(f"CASE WHEN {sql_in('path', NOTICED)} THEN t_act END")}, {ts("t_sent")},
    {ts(f"CASE WHEN {sql_in('path', FORWARDED)} THEN t_act END")},
    {ts(f"CASE WHEN {sql_in('path', REFERRED)} THEN t_act END")},
    {ts("CASE WHEN hold THEN t_act END")}, {ts("t_rm")}, {ts("t_closed")}, {ts("due")},
    {ts(f"CASE WHEN {chased} AND rc < 3 THEN due + rc * 259200 WHEN hold THEN {hold_next} END")},
    rc, {ts(updated)}, {sql_map("path", {path: len(steps) for path, steps in STEPS.items()})}
FROM {last}
"""


def events_sql(d: Dialect, letters, lo: int, hi: int) -> str:
    """The history of cases lo..hi: the workflow path to each case's state, and what
    its letters left (``referral_sent``, ``reminder_sent``, ``escalated``), in time order."""
    values = []
    for path, steps in STEPS.items():
        for step, (action, source, target, at, actor) in enumerate(steps):
            values.append(
                f"({sql_value(path)}, {step}, {sql_value(action)}, "
                f"CAST({sql_value(source)} AS varchar(20)), {sql_value(target)}, "
                f"{sql_value(at)}, {sql_value(actor)})"
            )
    path_expr = (
        "CASE WHEN c.resolution = 'duplicate' THEN 'dup' "
        "WHEN c.status <> 'closed' THEN c.status "
        "WHEN c.resolution = 'takedown_confirmed' THEN "
        "CASE WHEN c.provider_id IS NOT NULL THEN 'td_notice' "
        "WHEN c.partner_id IS NOT NULL THEN 'td_partner' ELSE 'td_police' END "
        "ELSE c.resolution END"
    )
    at_columns = sorted({step[3] for steps in STEPS.values() for step in steps})
    created = "CASE st.at " + " ".join(f"WHEN '{c}' THEN c.{c}" for c in at_columns) + " END"
    obj, strip = d.json_object, d.json_strip_nulls
    assess_fields = ("classification", "media_type", "site_type", "hosting_country")
    assess_fields += ("age_group", "hosting_ip")
    fields = f"""CASE st.action
        WHEN 'receive' THEN {
        strip(
            obj(
                "'source'",
                "s.source",
                "'submission'",
                "s.reference",
                "'duplicate_of'",
                "o.reference",
            )
        )
    }
        WHEN 'assign' THEN {obj("'assignee_id'", "c.assignee_id")}
        WHEN 'assess' THEN {strip(obj(*[x for f in assess_fields for x in (f"'{f}'", f"c.{f}")]))}
        WHEN 'request_notice' THEN {obj("'provider_id'", "c.provider_id")}
        WHEN 'send_notice' THEN {obj("'notice'", "n.reference")}
        WHEN 'forward_to_partner' THEN {obj("'partner_id'", "c.partner_id")}
        WHEN 'refer_to_police' THEN {
        obj("'police_id'", "c.police_id", "'hold'", d.json_bool("c.police_hold"))
    }
        WHEN 'confirm_takedown' THEN {obj("'removed_at'", d.iso("c.removed_at"))}
        ELSE {obj()} END"""
    return f"""
WITH st(path, step, action, from_status, to_status, at, actor) AS (VALUES {", ".join(values)})
INSERT INTO case_events (case_id, actor_id, action, from_status, to_status, fields, created_at)
SELECT case_id, actor_id, action, from_status, to_status, fields, created_at FROM (
SELECT c.id AS case_id,
    CASE st.actor WHEN 'submitter' THEN s.submitted_by_id WHEN 'assignee' THEN c.assignee_id END
    AS actor_id,
    st.action AS action, st.from_status AS from_status, st.to_status AS to_status,
    {fields} AS fields, {created} AS created_at, 0 AS src, st.step AS step
FROM cases c
JOIN submissions s ON s.id = c.submission_id
LEFT JOIN cases o ON o.id = c.duplicate_of_id
{letters.notice_reference_join()}
JOIN st ON st.path = ({path_expr})
WHERE c.id BETWEEN {lo} AND {hi}
UNION ALL
{letters.events_sql(lo, hi)}
) e
ORDER BY case_id, created_at, src, step
"""


# --- running it


def _register_sqlite_functions(connection) -> None:
    connection.create_function("md5", 1, md5_hex, deterministic=True)
    connection.create_function("h32", 1, lambda text: int(text, 16), deterministic=True)
    connection.create_function("sha256hex", 1, sha256_hex, deterministic=True)


def _secondary_indexes(cursor, dialect: str, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the table's indexes that no constraint owns."""
    if dialect == "postgresql":
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            f"AND tablename = '{table}' AND indexname NOT IN "
            f"(SELECT conname FROM pg_constraint WHERE conrelid = '{table}'::regclass)"
        )
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            f"AND tbl_name = '{table}' AND sql IS NOT NULL"
        )
    return [(name, sql) for name, sql in cursor.fetchall()]


def _run_chunks(raw, cursor, label: str, total: int, make_sql, unit: str = "rows") -> None:
    started = time.perf_counter()
    for lo in range(1, total + 1, CHUNK):
        hi = min(lo + CHUNK - 1, total)
        cursor.execute(make_sql(lo, hi))
        raw.commit()
        elapsed = time.perf_counter() - started
        print(f"  {label}: {hi:,}/{total:,}  {hi / elapsed:,.0f} {unit}/s", flush=True)
    elapsed = time.perf_counter() - started
    print(f"{label}: {total:,} {unit} in {elapsed:.1f} s ({total / elapsed:,.0f} {unit}/s)")


def _verify(cursor, n: int) -> None:
    """Every stored URL is normalised, and url_hash and host are what the app computes."""
    from casemgr.cases.receiving import url_hash
    from casemgr.intake.urls import host_of, normalise_url

    step = max(1, n // 2000)
    cursor.execute(f"SELECT id, url, url_hash, host FROM cases WHERE id % {step} = 0")
    rows = cursor.fetchall()
    for case_id, url, digest, host in rows:
        problems = []
        if normalise_url(url) != url:
            problems.append(f"not normalised: {normalise_url(url)!r}")
        if url_hash(url) != digest:
            problems.append("url_hash differs")
        if host_of(url) != host:
            problems.append(f"host_of gives {host_of(url)!r}, stored {host!r}")
        if problems:
            raise SystemExit(f"case {case_id} {url!r}: {'; '.join(problems)}")
    print(f"verified {len(rows):,} sampled cases: url normalised, url_hash and host consistent")


def _summary(cursor) -> None:
    cursor.execute("SELECT status, count(*) FROM cases GROUP BY status ORDER BY count(*) DESC")
    rows = cursor.fetchall()
    total = sum(count for _, count in rows)
    open_count = sum(count for status, count in rows if status != "closed")
    print(f"cases: {total:,}, open {open_count:,} ({100 * open_count / total:.1f} %)")
    print("  " + ", ".join(f"{status} {count:,}" for status, count in rows))
    cursor.execute(
        "SELECT resolution, count(*) FROM cases WHERE resolution IS NOT NULL "
        "GROUP BY resolution ORDER BY count(*) DESC"
    )
    print("  closed as: " + ", ".join(f"{r} {c:,}" for r, c in cursor.fetchall()))
    for table in ("submissions", "case_events", "notices", "notice_cases", "users"):
        cursor.execute(f"SELECT count(*) FROM {table}")
        print(f"{table}: {cursor.fetchone()[0]:,}")
    cursor.execute("SELECT host, count(*) FROM cases GROUP BY host ORDER BY count(*) DESC LIMIT 3")
    print("biggest hosts: " + ", ".join(f"{h} {c:,}" for h, c in cursor.fetchall()))


def parse_now(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument(
        "--events-for",
        type=int,
        default=None,
        help="only the newest N cases get events (default: every case)",
    )
    parser.add_argument(
        "--now", type=parse_now, default=None, help="end of the 3 years (default: now)"
    )
    parser.add_argument(
        "--keep-indexes", action="store_true", help="load with the indexes in place"
    )
    args = parser.parse_args()
    wall = time.perf_counter()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to a migrated, empty database")

    from sqlalchemy import func, select

    from casemgr import create_app
    from casemgr.auth.models import User
    from casemgr.cases.models import Case
    from casemgr.extensions import db

    app = create_app()
    now = args.now or datetime.now(UTC).replace(second=0, microsecond=0)
    with app.app_context():
        engine = db.engine
        d = Dialect(engine.dialect.name)
        if db.session.scalar(select(func.count()).select_from(Case)) or db.session.scalar(
            select(func.count()).select_from(User)
        ):
            raise SystemExit("the database has cases or users already: give me an empty one")
        print(
            f"{engine.url.render_as_string(hide_password=True)}: {args.cases:,} cases, "
            f"3 years up to {now.isoformat()}"
        )
        plan = Plan(args.cases, now, app.config["CASE_REFERENCE_PREFIX"])
        ids = make_directory_and_staff(db.session, now - timedelta(seconds=SPAN + 86400))
        db.session.commit()

        raw = engine.raw_connection()
        cursor = raw.cursor()
        if not d.pg:
            _register_sqlite_functions(raw.driver_connection)
            raw.commit()
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-400000")
        t0 = time.perf_counter()
        dropped = {
            table: [] if args.keep_indexes else _secondary_indexes(cursor, d.name, table)
            for table in ("cases", "case_events", "notice_cases")
        }
        for name, _ in [index for indexes in dropped.values() for index in indexes]:
            cursor.execute(f"DROP INDEX {name}")
        raw.commit()

        _run_chunks(
            raw, cursor, "submissions", plan.s, lambda lo, hi: submissions_sql(d, plan, ids, lo, hi)
        )
        _run_chunks(raw, cursor, "cases", plan.n, lambda lo, hi: cases_sql(d, plan, ids, lo, hi))

        started = time.perf_counter()
        for _, create in dropped["cases"]:
            cursor.execute(create)
        raw.commit()
        print(f"rebuilt the cases' indexes in {time.perf_counter() - started:.1f} s")

        letters = Letters(d, plan, app)
        started = time.perf_counter()
        store_pdf(cursor, d, render_pdf(app))
        cursor.execute(letters.notices_sql())
        raw.commit()
        cursor.execute("SELECT count(*), sum(case_count) FROM notices")
        made, lines = cursor.fetchone()
        print(
            f"notices: {made:,} letters ({lines:,} lines) in {time.perf_counter() - started:.1f} s"
        )
        _run_chunks(
            raw, cursor, "notice_cases (by case)", plan.n, letters.notice_cases_sql, unit="cases"
        )
        first = 1 if args.events_for is None else max(1, plan.n - args.events_for + 1)
        _run_chunks(
            raw,
            cursor,
            "case_events (by case)",
            plan.n - first + 1,
            lambda lo, hi: events_sql(d, letters, first + lo - 1, first + hi - 1),
            unit="cases",
        )

        started = time.perf_counter()
        for _, create in dropped["case_events"] + dropped["notice_cases"]:
            cursor.execute(create)
        raw.commit()
        print(f"rebuilt the history's indexes in {time.perf_counter() - started:.1f} s")
        cursor.execute("SELECT count(*) FROM case_events")
        print(f"case_events: {cursor.fetchone()[0]:,} rows")

        values = plan.counters() | counters(cursor, plan.prefix, plan.years)
        for name, value in values.items():
            cursor.execute(f"DELETE FROM reference_counters WHERE name = '{name}'")
            cursor.execute(
                f"INSERT INTO reference_counters (name, value) VALUES ('{name}', {value})"
            )
        if d.pg:
            for table in ("submissions", "cases", "notices"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        raw.commit()
        print(f"loaded in {time.perf_counter() - t0:.1f} s")

        started = time.perf_counter()
        if d.pg:
            raw.driver_connection.autocommit = True
            cursor.execute("VACUUM ANALYZE")
            raw.driver_connection.autocommit = False
        else:
            cursor.execute("PRAGMA foreign_key_check")
            broken = cursor.fetchall()
            if broken:
                raise SystemExit(f"foreign keys broken: {broken[:5]}")
            cursor.execute("ANALYZE")
            raw.commit()
        print(
            f"{'VACUUM ANALYZE' if d.pg else 'foreign_key_check + ANALYZE'}: "
            f"{time.perf_counter() - started:.1f} s"
        )
        _verify(cursor, plan.n)
        _summary(cursor)
        raw.close()
        print(f"sign in as analyst1@bench.example.org / {PASSWORD}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall time {time.perf_counter() - wall:.1f} s, peak RSS of this process {peak:.0f} MB")


if __name__ == "__main__":
    main()
