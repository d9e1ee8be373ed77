"""The partners run: deliver the cases queued for partners' APIs, then poll their status.

``flask --app wsgi jobs run partners``; the scheduler runs it every 15 minutes.

1. Deliveries: queued links due (``next_attempt_at`` passed) are read and
   committed first, so no transaction waits on the network; each is POSTed
   to its partner (``PARTNER_TIMEOUT``) and the answer recorded in a batch of
   its own. A failed attempt waits ``PARTNER_RETRY_BASE_SECONDS``, doubled
   each time; after ``PARTNER_MAX_ATTEMPTS`` the link is ``failed`` and the
   supervisors get an alert. A lost answer is safe: the partner is
   idempotent on our case reference, so the retry finds the first case.
2. Polling: delivered links of open cases not polled for
   ``PARTNER_POLL_INTERVAL_MINUTES``, at most ``PARTNER_POLL_LIMIT`` a run,
   one GET per partner submission; changes are recorded on our cases
   (:func:`casemgr.partners.services.apply_remote_status`).

A partner that is down, slow, refuses our token or answers garbage: the
error is stored on its links, one alert per partner and problem is raised,
nothing changes on our cases, and its other requests wait for the next run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from functools import partial

from flask import Flask
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from casemgr.alerts.services import raise_alert
from casemgr.cases.models import Case
from casemgr.cases.states import Status
from casemgr.crypto import ContactCipher
from casemgr.database import savepoint
from casemgr.directory.models import Organisation
from casemgr.jobs.base import JobSummary, run_batch
from casemgr.partners import answers
from casemgr.partners.client import PartnerClient, PartnerError
from casemgr.partners.models import DELIVERED, FAILED, QUEUED, PartnerLink
from casemgr.partners.services import (
    apply_remote_status,
    record_delivery,
    record_failure,
    report_payload,
)
from casemgr.partners.settings import PartnerSettings
from casemgr.settings import Timings

NAME = "partners"
log = logging.getLogger("casemgr.jobs")
# Trouble with the partner itself, not with one case: the run asks it nothing more.
PARTNER_DOWN = frozenset({"unreachable", "timeout", "unauthorised", "http_error"})


class PartnerSummary(JobSummary):
    def line(self) -> str:
        c = self.counts
        parts = [
            f"{c['delivered']} delivered",
            f"{c['delivery_errors']} delivery errors",
            f"{c['polled']} polled",
            f"{c['changes']} status changes",
            f"{c['poll_errors']} poll errors",
            f"{c['alerts']} alerts",
        ]
        return (
            f"{self.job} as of {self.now.isoformat()}: "
            + ", ".join(parts)
            + (f"; {self.failed} failed")
        )


def run(session: Session, now: datetime, app: Flask) -> JobSummary:
    summary = PartnerSummary(NAME, now)
    settings = PartnerSettings.from_config(app.config)
    cipher: ContactCipher = app.extensions["casemgr.cipher"]
    timings: Timings = app.extensions["casemgr.timings"]
    down: set[int] = set()
    deliver(session, now, settings, cipher, summary, down)
    poll(session, now, settings, cipher, timings, summary, down)
    return summary


def _client(partner: Organisation, cipher: ContactCipher, settings: PartnerSettings):
    if not partner.api_base_url or partner.api_token_encrypted is None:
        return None
    return PartnerClient(
        partner.api_base_url,
        cipher.decrypt(partner.api_token_encrypted),
        settings.timeout,
        settings.max_answer_bytes,
    )


def _alert(session: Session, partner: Organisation, problem: str, message: str, now: datetime):
    return raise_alert(
        session,
        kind="partner_problem",
        key=f"partner:{partner.id}:{problem}",
        message=f"Partner {partner.name}: {message}",
        now=now,
    )


def deliver(session, now, settings, cipher, summary, down: set[int]) -> None:
    links = list(
        session.scalars(
            select(PartnerLink)
            .where(PartnerLink.state == QUEUED, PartnerLink.next_attempt_at <= now)
            .order_by(PartnerLink.next_attempt_at, PartnerLink.id)
            .limit(max(1, settings.poll_limit))
        )
    )
    work = []
    for link in links:
        case = session.get(Case, link.case_id)
        client = _client(link.partner, cipher, settings)
        if case is not None:
            work.append(
                (
                    link.id,
                    link.partner_id,
                    client,
                    case.reference,
                    case.url,
                    report_payload(case, settings.hotline_name),
                )
            )
    session.commit()  # the reading is done: no transaction waits on the network
    for link_id, partner_id, client, reference, url, payload in work:
        if partner_id in down:
            summary.counts["deferred"] += 1
            continue
        try:
            if client is None:
                raise PartnerError("not_configured", "no API base URL or token any more")
            answer = client.post_report(payload)
            result: dict | PartnerError = answers.delivered(
                answer.body, reference=reference, url=url
            )
        except PartnerError as exc:
            result = exc
            if exc.problem in PARTNER_DOWN:
                down.add(partner_id)
        run_batch(
            session,
            summary,
            label=f"delivery of {reference}",
            lock=None,
            work=lambda link_id=link_id, result=result: _record_delivery(
                session, link_id, result, now, settings, summary
            ),
        )


def _record_delivery(session, link_id, result, now, settings, summary) -> None:
    link = session.get(PartnerLink, link_id)
    if link is None or link.state != QUEUED:
        return
    if not isinstance(result, PartnerError):
        record_delivery(link, result, now=now)
        summary.counts["delivered"] += 1
        return
    link.attempts += 1
    record_failure(link, str(result))
    summary.counts["delivery_errors"] += 1
    log.warning("%s: delivery of case %s failed: %s", NAME, link.case_id, result)
    if link.attempts >= settings.max_attempts:
        link.state, link.next_attempt_at = FAILED, None
        summary.counts["failed_deliveries"] += 1
        summary.counts["alerts"] += _alert(
            session,
            link.partner,
            "delivery_failed",
            f"a forwarded case could not be delivered after {link.attempts} attempts "
            f"(last: {result}); send it by letter or retry from the case",
            now,
        )
    else:
        link.next_attempt_at = now + settings.backoff(link.attempts)
        summary.counts["alerts"] += _alert(session, link.partner, result.problem, str(result), now)


def poll(session, now, settings, cipher, timings, summary, down: set[int]) -> None:
    if settings.poll_limit <= 0:
        return
    rows = session.execute(
        select(PartnerLink, Case.reference)
        .join(Case, Case.id == PartnerLink.case_id)
        .where(
            PartnerLink.state == DELIVERED,
            Case.status != Status.CLOSED,
            or_(
                PartnerLink.last_polled_at.is_(None),
                PartnerLink.last_polled_at <= now - settings.poll_interval,
            ),
        )
        .order_by(PartnerLink.last_polled_at.nulls_first(), PartnerLink.id)
        .limit(settings.poll_limit)
    ).all()
    groups: dict[tuple[int, str], list[tuple[PartnerLink, str]]] = defaultdict(list)
    clients = {}
    for link, reference in rows:
        groups[(link.partner_id, link.remote_submission or "")].append((link, reference))
        if link.partner_id not in clients:
            clients[link.partner_id] = _client(link.partner, cipher, settings)
    asked = {
        key: [(link.id, reference) for link, reference in group] for key, group in groups.items()
    }
    session.commit()
    for (partner_id, submission), members in asked.items():
        if partner_id in down or clients.get(partner_id) is None or not submission:
            summary.counts["not_polled"] += len(members)
            continue
        try:
            answer = clients[partner_id].get_submission(submission)
            result: dict | PartnerError = answer.body
        except PartnerError as exc:
            result = exc
            if exc.problem in PARTNER_DOWN:
                down.add(partner_id)
        run_batch(
            session,
            summary,
            label=f"status of partner submission {submission}",
            lock=None,
            work=partial(
                _record_poll,
                session,
                partner_id,
                submission,
                members,
                result,
                now,
                timings,
                summary,
            ),
        )


def _record_poll(session, partner_id, submission, members, result, now, timings, summary) -> None:
    partner = session.get(Organisation, partner_id)
    links = [(session.get(PartnerLink, link_id), reference) for link_id, reference in members]
    links = [(link, ref) for link, ref in links if link is not None and link.state == DELIVERED]
    if partner is None or not links:
        return
    if not isinstance(result, PartnerError):
        try:
            statuses = answers.polled(result, submission=submission, links=links)
        except PartnerError as exc:
            result = exc
    if isinstance(result, PartnerError):
        for link, _ in links:
            record_failure(link, str(result))
        summary.counts["poll_errors"] += 1
        log.warning("%s: polling %s of %s failed: %s", NAME, submission, partner.name, result)
        summary.counts["alerts"] += _alert(session, partner, result.problem, str(result), now)
        return
    summary.counts["polled"] += len(links)
    for link, _ in links:
        case = session.get(Case, link.case_id)
        if case is None:
            continue
        try:
            with savepoint(session):
                done = apply_remote_status(
                    session,
                    link,
                    case,
                    statuses[link.id],
                    partner=partner,
                    now=now,
                    timings=timings,
                )
        except Exception as exc:  # the case moved on meanwhile: it fails alone
            log.warning("%s: case %s: %s", NAME, case.reference, exc)
            summary.failures.append(f"partner status on {case.reference}: {exc}")
            continue
        if done:
            summary.counts["changes"] += 1
        if done not in (None, "event"):
            summary.counts[done] += 1
