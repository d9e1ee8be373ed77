"""What the bulk view keeps in the session cookie between the action and the
result page stays small whatever happened (casemgr.cases.bulk_views)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from casemgr import create_app
from casemgr.cases import bulk_views, queue_args
from casemgr.errors import InvalidTransition


@dataclass(frozen=True)
class Outcome:
    case_id: int
    ok: bool
    case: object = None
    error: Exception | None = None


def test_500_refused_cases_of_a_million_fit_in_a_cookie():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rng = random.Random(12)
    ids = rng.sample(range(1, 1_000_000), 500)
    outcomes = [
        Outcome(case_id, ok=False, error=InvalidTransition("assess", state, ["assign"], known=True))
        if i % 3
        else Outcome(case_id, ok=True)
        for i, (case_id, state) in enumerate(
            zip(ids, ["new", "closed", "triage"] * 200, strict=False)
        )
    ]
    with app.test_request_context():
        args = queue_args.parse({"view": "open", "q": "x" * 300, "sort": "-due"})
        summary = bulk_views._summary("assess", outcomes, args)
        serialised = app.session_interface.get_signing_serializer(app).dumps(
            {"_user_id": "1", "csrf_token": "t" * 40, bulk_views.BULK_RESULT: summary}
        )
    assert len(serialised) < 3000
    shown = bulk_views._outcomes(summary)
    assert sorted(ids) == [case_id for case_id, _, _ in shown]
    by_id = {case_id: (ok, message) for case_id, ok, message in shown}
    for outcome in outcomes:
        ok, message = by_id[outcome.case_id]
        assert ok == outcome.ok
        assert message == (None if outcome.ok else str(outcome.error))


def test_more_distinct_messages_than_kept_say_to_open_the_case():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    outcomes = [Outcome(n, ok=False, error=ValueError(f"reason {n}")) for n in range(1, 40)]
    with app.test_request_context():
        summary = bulk_views._summary("take", outcomes, queue_args.parse({}))
        shown = bulk_views._outcomes(summary)
    assert len(summary["messages"]) == bulk_views.MAX_MESSAGES
    assert shown[0][2] == "reason 1"
    assert shown[-1][2] == "refused: open the case to see why"
