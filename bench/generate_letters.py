"""Letters and the history they leave, for ``bench/generate_cases.py``.

Made from the cases already loaded, as the notice and reminder runs would
have left them (``casemgr.jobs.notices``, ``casemgr.jobs.reminders``):

- a takedown notice per hosting provider per day, covering the cases whose
  ``notice_sent_at`` falls on that day (``step_at`` = ``notice_requested_at``);
- a referral per partner hotline or police unit per day, covering the cases
  forwarded or referred to it that day (``step_at`` = ``forwarded_at`` or
  ``referred_at``, so the notice run finds none still to refer);
- a reminder per recipient per day for each reminder a case's
  ``reminder_count`` says it got (the k-th at ``due_at`` + (k - 1) × 72 h, the
  step it served), and an escalation (to the case's police, else to the
  supervisors) at the third due time, which ends the chasing
  (``next_reminder_at`` NULL); each follows the case's notice or referral.

A letter's ``created_at`` is the latest of its lines' times that day (the run
that sent it), ``sent_at`` a minute later (the outbox); references
``<prefix>-N-<year>-000001`` run in time order within each year, and
``reference_counters`` ``notice-<year>`` ends at the last one. Ids are a
function of (day, kind, recipient), so the letters' lines can be written in
chunks of cases without looking a letter up. Every letter stores the same PDF:
ONE real letter rendered once by the app's renderer (~30 kB), its bytes,
SHA-256 and size reused for every row; rendering one per row would cost hours
and tens of GB at 10M cases, and no benchmarked page reads the bytes.

Not made: the escalations' alerts, the police-hold reviews' events and alerts,
the response links and outbox messages of the letters, and
``previous_reference`` (NULL) on reminders and escalations.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

DAY = 86400
INTERVAL = 259200  # REMINDER_INTERVAL_HOURS (72) in seconds
KINDS = ("notice", "referral", "reminder", "escalation")
SLOTS = 100  # organisation ids per kind in a letter's id: the directory has < 100
EVENT_ACTION = {"referral": "referral_sent", "reminder": "reminder_sent"}
EVENT_ACTION["escalation"] = "escalated"
REMINDER_KEY = "'reminder'"


def render_pdf(app) -> bytes:
    """One real one-URL takedown notice through the app's own renderer."""
    from casemgr.notices.pdf.letter import Letter, LetterLine
    from casemgr.notices.wording import NoticeSettings

    settings = NoticeSettings.from_app(app)
    moment = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    wording = settings.wording_for("en")
    letter = Letter(
        kind="notice",
        reference=f"{settings.reference_prefix}-N-2026-000001",
        date=moment,
        recipient_name="Hosting US 1",
        recipient_address="",
        recipient_email="abuse@hosting-us-1.example.org",
        lines=[
            LetterLine(
                "CM-2026-000001",
                "https://img1.example.com/i/0123456789ab.jpg",
                moment,
                settings.basis_for("illegal_baseline", wording.language),
            )
        ],
        deadline=moment,
        legal_basis=settings.fill(wording.legal_basis, reference="CM-N-2026-000001", notified=""),
        request=settings.fill(
            wording.request_for("notice", "hosting_provider"),
            reference="CM-N-2026-000001",
            notified="",
        ),
        closing=settings.fill(wording.closing, reference="CM-N-2026-000001", notified=""),
        language=wording.language,
        title=wording.titles.get("notice"),
        labels=dict(wording.labels),
        timezone=settings.timezone,
    )
    return settings.renderer(letter, settings.letterhead)


class Letters:
    def __init__(self, d, plan, app):
        from casemgr.notices.wording import NoticeSettings

        self.d = d
        self.plan = plan
        self.day0 = plan.start // DAY
        settings = NoticeSettings.from_app(app)
        self.supervisors = (
            f"Supervisors, {settings.letterhead.name}",
            settings.supervisors_email,
            settings.letterhead.address,
        )

    def epoch(self, column: str) -> str:
        if self.d.pg:
            return f"CAST(extract(epoch FROM {column}) AS bigint)"
        return f"CAST(strftime('%s', {column}) AS INTEGER)"

    def letter_id(self, kind: str, t: str, recipient: str) -> str:
        slot = KINDS.index(kind) * SLOTS
        per_day = len(KINDS) * SLOTS
        return f"(({t}) / {DAY} - {self.day0}) * {per_day} + {slot} + COALESCE({recipient}, 0) + 1"

    def originals(self) -> tuple[str, str]:
        """The case's notice or referral: (its letter id, its time), from columns of c."""
        sent, handed = (
            self.epoch("c.notice_sent_at"),
            self.epoch("COALESCE(c.forwarded_at, c.referred_at)"),
        )
        notice = self.letter_id("notice", sent, "c.provider_id")
        referral = self.letter_id("referral", handed, "COALESCE(c.partner_id, c.police_id)")
        return notice, referral

    def lines_sql(self, where: str) -> str:
        """(id, kind, recipient, t, step_at, deadline, follows, case_id) of every letter line
        of the cases ``where`` selects (a condition on ``c``)."""
        ts, ep = self.d.ts, self.epoch
        notice_id, referral_id = self.originals()
        original = f"CASE WHEN c.notice_sent_at IS NOT NULL THEN {notice_id} ELSE {referral_id} END"
        due = ep("c.due_at")
        handed = ep("COALESCE(c.forwarded_at, c.referred_at)")
        chased = (
            "CASE c.status WHEN 'notice_sent' THEN c.provider_id "
            "WHEN 'forwarded' THEN c.partner_id ELSE c.police_id END"
        )
        parts = [
            f"SELECT {notice_id} AS id, 'notice' AS kind, c.provider_id AS recipient, "
            f"{ep('c.notice_sent_at')} AS t, c.notice_requested_at AS step_at, "
            f"{ep('c.notice_sent_at')} + {INTERVAL} AS deadline, "
            f"CAST(NULL AS integer) AS follows, c.id AS case_id FROM cases c "
            f"WHERE c.notice_sent_at IS NOT NULL AND ({where})",
            f"SELECT {referral_id}, 'referral', COALESCE(c.partner_id, c.police_id), {handed}, "
            "COALESCE(c.forwarded_at, c.referred_at), "
            f"CASE WHEN c.partner_id IS NOT NULL THEN {handed} + 604800 "
            f"WHEN NOT c.police_hold THEN {handed} + {INTERVAL} END, NULL, c.id FROM cases c "
            f"WHERE COALESCE(c.forwarded_at, c.referred_at) IS NOT NULL AND ({where})",
        ]
        for k in (1, 2):
            t = f"{due} + {(k - 1) * INTERVAL}"
            parts.append(
                f"SELECT {self.letter_id('reminder', t, chased)}, 'reminder', {chased}, {t}, "
                f"{ts(t)}, {t} + {INTERVAL}, {original}, c.id FROM cases c "
                f"WHERE c.reminder_count >= {k} AND c.status <> 'closed' AND ({where})"
            )
        t = f"{due} + {2 * INTERVAL}"
        parts.append(
            f"SELECT {self.letter_id('escalation', t, 'c.police_id')}, 'escalation', c.police_id, "
            f"{t}, {ts(t)}, NULL, {original}, c.id FROM cases c "
            f"WHERE c.reminder_count >= 3 AND c.status <> 'closed' AND ({where})"
        )
        return "\nUNION ALL\n".join(parts)

    def notices_sql(self) -> str:
        """Every letter, from a GROUP BY over all cases' lines (one statement)."""
        d, ts, plan = self.d, self.d.ts, self.plan
        year = (
            "CAST(extract(year FROM to_timestamp(t)) AS integer)"
            if d.pg
            else ("CAST(strftime('%Y', t, 'unixepoch') AS INTEGER)")
        )
        name, email, address = (
            "NULL" if v is None else "'" + v.replace("'", "''") + "'" for v in self.supervisors
        )
        number = "row_number() OVER (PARTITION BY yr ORDER BY t, id)"
        return f"""
WITH lines AS ({self.lines_sql("1 = 1")}),
groups AS (
    SELECT id, kind, recipient, max(t) AS t, min(deadline) AS deadline, count(*) AS n
    FROM lines GROUP BY id, kind, recipient
),
numbered AS (SELECT *, {year} AS yr FROM groups),
referenced AS (SELECT *, {number} AS seq FROM numbered)
INSERT INTO notices (id, reference, kind, recipient_id, recipient_kind, recipient_name,
    recipient_email, recipient_address, language, manual_delivery, previous_reference,
    deadline, case_count, pdf, sha256, size, created_at, sent_at)
SELECT g.id, '{plan.prefix}-N-' || CAST(g.yr AS text) || '-' || {d.pad6("g.seq")}, g.kind,
    g.recipient, COALESCE(o.kind, 'supervisors'), COALESCE(o.name, {name}),
    CASE WHEN o.id IS NULL THEN {email} ELSE o.email END, COALESCE(o.address, {address}),
    COALESCE(o.language, 'en'), (CASE WHEN o.id IS NULL THEN {email} ELSE o.email END) IS NULL,
    NULL, {ts("g.deadline")}, g.n, p.pdf, p.sha256, p.size, {ts("g.t")},
    {ts(d.least("g.t + 60", str(plan.now)))}
FROM referenced g
LEFT JOIN organisations o ON o.id = g.recipient
CROSS JOIN bench_pdf p
ORDER BY g.id
"""

    def notice_cases_sql(self, lo: int, hi: int) -> str:
        return f"""
INSERT INTO notice_cases (notice_id, case_id, kind, step_at, follows_id)
SELECT id, case_id, kind, step_at, follows
FROM ({self.lines_sql(f"c.id BETWEEN {lo} AND {hi}")}) lines
ORDER BY case_id, t
"""

    def events_sql(self, lo: int, hi: int) -> str:
        """The history a letter leaves on each case it covers (the notice's own is the
        ``send_notice`` step of the workflow path)."""
        d, ep = self.d, self.epoch
        obj = d.json_object
        reminder = f"1 + ({ep('nc.step_at')} - {ep('c.due_at')}) / {INTERVAL}"
        sent = ("'notice'", "n.reference", "'to'", "n.recipient_name")
        fields = (
            f"CASE nc.kind WHEN 'reminder' THEN {obj(*sent, REMINDER_KEY, reminder)} "
            f"ELSE {obj(*sent)} END"
        )
        status = (
            "CASE WHEN nc.kind <> 'referral' THEN c.status "
            "WHEN c.partner_id IS NOT NULL THEN 'forwarded' ELSE 'with_police' END"
        )
        action = (
            "CASE nc.kind "
            + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in EVENT_ACTION.items())
            + " END"
        )
        return f"""
SELECT nc.case_id AS case_id, CAST(NULL AS integer) AS actor_id, {action} AS action,
    {status} AS from_status, {status} AS to_status, {fields} AS fields,
    n.created_at AS created_at, 1 AS src, 0 AS step
FROM notice_cases nc
JOIN notices n ON n.id = nc.notice_id
JOIN cases c ON c.id = nc.case_id
WHERE nc.case_id BETWEEN {lo} AND {hi} AND nc.kind <> 'notice'
"""

    def notice_reference_join(self) -> str:
        """A LEFT JOIN giving ``n`` = the case's takedown notice (for ``send_notice``)."""
        notice_id, _ = self.originals()
        return f"LEFT JOIN notices n ON c.notice_sent_at IS NOT NULL AND n.id = {notice_id}"


def store_pdf(cursor, d, pdf: bytes) -> None:
    """The one PDF every letter stores, in a temporary table the INSERT joins."""
    kind = "bytea" if d.pg else "BLOB"
    cursor.execute(
        f"CREATE TEMPORARY TABLE bench_pdf (pdf {kind} NOT NULL, sha256 varchar(64) NOT NULL, "
        "size integer NOT NULL)"
    )
    marker = "%s" if d.pg else "?"
    cursor.execute(
        f"INSERT INTO bench_pdf VALUES ({marker}, {marker}, {marker})",
        (pdf, hashlib.sha256(pdf).hexdigest(), len(pdf)),
    )


def counters(cursor, prefix: str, years) -> dict[str, int]:
    """reference_counters ``notice-<year>``: the last letter number of each year."""
    values = {}
    for year in years:
        cursor.execute(
            f"SELECT max(reference) FROM notices WHERE reference LIKE '{prefix}-N-{year}-%'"
        )
        last = cursor.fetchone()[0]
        if last:
            values[f"notice-{year}"] = int(last.rsplit("-", 1)[1])
    return values
