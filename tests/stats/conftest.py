"""A small fixed data set whose every figure is worked out by hand in test_figures.py.

All times UTC; the clock stands at 2026-11-28 09:00 (tests/conftest.py NOW).
Cases are moved through the real workflow service at the moments given.

October 2026 (the period most tests read):

| case | received   | what happened (offsets from receipt unless dated)                     |
|------|------------|------------------------------------------------------------------------|
| c0   | 09-28 00:00| Sept.: A assesses illegal DE +2h, notice P2 +3h, sent 10-01 00:00,      |
|      |            | removed 10-08 00:00 (exactly 7 days after the notice)                 |
| c1   | 10-01 00:00| A: assign +1h, assess illegal KH image_host +2h, notice P1 +3h,         |
|      |            | sent +4h, removed exactly 1 day after the notice                        |
| c2   | 10-02 00:00| assigned to A, assessed by supervisor S +2h (KH forum), notice P1 +5h,  |
|      |            | sent +6h, removed 2 days after the notice                               |
| c3   | 10-03 00:00| B: assess illegal DE image_host +4h, notice P2 +5h, sent +6h; open      |
|      |            | (notice_sent), overdue                                                  |
| c4   | 10-04 00:00| B: assess illegal_national DE file_host +10h, police with hold +12h;   |
|      |            | open, not overdue (a hold has no due date)                              |
| c5   | 10-05 00:00| A: assess not_illegal +1h (closed without action)                       |
| c6   | 10-06 00:00| same submission as c7; c3's URL again: closed as duplicate at receipt   |
| c7   | 10-06 00:00| new, nobody took it: open, overdue                                      |
| c8   | 10-10 00:00| A: assess illegal KH website +8h, police without hold +9h, notice P1    |
|      |            | +20h, sent +21h; removed +20h, an hour BEFORE the notice (counts as 0) |
| c9   | 10-31 23:59:59 | the last second of October; assigned 11-01: triage, overdue         |
| c11  | 10-07 00:00| A: assign +1h, close_unavailable +2h (closed without action)            |
| c10  | 11-01 00:00| November: A: illegal KH, notice P1 +2h, sent 11-26 09:00, not removed   |
| c12  | 11-20 00:00| November: A: illegal KH, notice P1, sent 11-27 09:00, removed 11-27 21:00|
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from casemgr import context
from casemgr.auth.models import User
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.directory.models import Organisation
from casemgr.domain import SYSTEM_ACTOR
from casemgr.extensions import db
from tests import factories


@pytest.fixture
def app_config() -> dict:
    # tests/conftest.py's app fixture passes no ENV_NAME, so the app would be
    # built on DevelopmentConfig (CSRF on, DEBUG on); these tests want TestingConfig.
    return {"ENV_NAME": "testing"}


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Every data set here makes staff accounts; scrypt's deliberate slowness
    (~0.17 s a hash) would be most of these tests' time."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    import casemgr.auth.models

    monkeypatch.setattr(
        casemgr.auth.models,
        "generate_password_hash",
        partial(generate_password_hash, method="pbkdf2:sha256:1000"),
    )


def at(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


H = timedelta(hours=1)
D = timedelta(days=1)


@dataclass
class Data:
    ana: User
    bo: User
    sam: User
    alpha: Organisation  # hosting provider, KH
    beta: Organisation  # hosting provider, DE
    cases: dict[str, Case]


def _illegal(country: str, site_type: str, classification: str = "illegal_baseline") -> dict:
    return {
        "classification": classification,
        "media_type": "image",
        "site_type": site_type,
        "hosting_country": country,
    }


@pytest.fixture
def data(app) -> Data:
    ana = factories.user("analyst", name="Ana")
    bo = factories.user("analyst", name="Bo")
    sam = factories.user("supervisor", name="Sam")
    alpha = factories.organisation(name="Alpha Hosting", country="KH")
    beta = factories.organisation(name="Beta Cloud", country="DE")
    police = factories.organisation("police", country="KH")
    timings = context.timings()
    made: dict[str, Case] = {}

    def receive(name: str, when: datetime, *urls: str) -> list[Case]:
        result = factories.report(*(urls or (f"http://{name}.example.com/x",)), at=when)
        found = result.submission.cases
        made[name] = found[0]
        return found

    def act(name: str, action: str, when: datetime, actor=None, **fields) -> None:
        cases.apply_action(
            db.session,
            made[name],
            action,
            fields,
            actor=actor or ana.actor,
            now=when,
            timings=timings,
        )
        db.session.commit()

    def notice_and_removal(name, start, actor, country, site, provider, *, request, sent, removed):
        act(name, "assign", start + H, actor)
        act(name, "assess", start + 2 * H, actor, **_illegal(country, site))
        act(name, "request_notice", request, actor, provider_id=provider.id)
        act(name, "send_notice", sent, SYSTEM_ACTOR)
        if removed is not None:
            act(name, "confirm_takedown", removed + H, actor, removed_at=removed)

    # c0: September report, notice in October.
    receive("c0", at(9, 28))
    notice_and_removal(
        "c0", at(9, 28), ana.actor, "DE", "image_host", beta,
        request=at(9, 28, 3), sent=at(10, 1), removed=at(10, 8),
    )  # fmt: skip
    receive("c1", at(10, 1))
    notice_and_removal(
        "c1", at(10, 1), ana.actor, "KH", "image_host", alpha,
        request=at(10, 1, 3), sent=at(10, 1, 4), removed=at(10, 2, 4),
    )  # fmt: skip
    receive("c2", at(10, 2))
    act("c2", "assign", at(10, 2, 1), ana.actor)
    act("c2", "assess", at(10, 2, 2), sam.actor, **_illegal("KH", "forum"))
    act("c2", "request_notice", at(10, 2, 5), ana.actor, provider_id=alpha.id)
    act("c2", "send_notice", at(10, 2, 6), SYSTEM_ACTOR)
    act("c2", "confirm_takedown", at(10, 4, 7), ana.actor, removed_at=at(10, 4, 6))
    receive("c3", at(10, 3), "http://shared.example.com/same")
    act("c3", "assign", at(10, 3, 1), bo.actor)
    act("c3", "assess", at(10, 3, 4), bo.actor, **_illegal("DE", "image_host"))
    act("c3", "request_notice", at(10, 3, 5), bo.actor, provider_id=beta.id)
    act("c3", "send_notice", at(10, 3, 6), SYSTEM_ACTOR)
    receive("c4", at(10, 4))
    act("c4", "assign", at(10, 4, 1), bo.actor)
    act("c4", "assess", at(10, 4, 10), bo.actor, **_illegal("DE", "file_host", "illegal_national"))
    act("c4", "refer_to_police", at(10, 4, 12), bo.actor, police_id=police.id, hold=True)
    receive("c5", at(10, 5))
    act("c5", "assign", at(10, 5, 0, 30), ana.actor)
    act("c5", "assess", at(10, 5, 1), ana.actor, classification="not_illegal")
    c6, c7 = receive("c6", at(10, 6), "http://shared.example.com/same", "http://c7.example.com/x")
    made["c7"] = c7
    receive("c11", at(10, 7))
    act("c11", "assign", at(10, 7, 1), ana.actor)
    act("c11", "close_unavailable", at(10, 7, 2), ana.actor)
    receive("c8", at(10, 10))
    act("c8", "assign", at(10, 10, 1), ana.actor)
    act("c8", "assess", at(10, 10, 8), ana.actor, **_illegal("KH", "website"))
    act("c8", "refer_to_police", at(10, 10, 9), ana.actor, police_id=police.id, hold=False)
    act("c8", "request_notice", at(10, 10, 20), ana.actor, provider_id=alpha.id)
    act("c8", "send_notice", at(10, 10, 21), SYSTEM_ACTOR)
    act("c8", "confirm_takedown", at(10, 11), ana.actor, removed_at=at(10, 10, 20))
    receive("c9", at(10, 31, 23, 59, 59))
    act("c9", "assign", at(11, 1, 0, 30), ana.actor)
    receive("c10", at(11, 1))
    notice_and_removal(
        "c10", at(11, 1), ana.actor, "KH", "image_host", alpha,
        request=at(11, 1, 3), sent=at(11, 26, 9), removed=None,
    )  # fmt: skip
    receive("c12", at(11, 20))
    notice_and_removal(
        "c12", at(11, 20), ana.actor, "KH", "image_host", alpha,
        request=at(11, 20, 3), sent=at(11, 27, 9), removed=at(11, 27, 21),
    )  # fmt: skip
    return Data(ana, bo, sam, alpha, beta, made)
