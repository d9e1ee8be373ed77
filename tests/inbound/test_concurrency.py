"""Two processes ingesting the same message at once store it once and act on it once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casemgr.cases.models import CaseEvent
from casemgr.extensions import db
from casemgr.inbound.models import InboundMail
from casemgr.inbound.services import InboundSettings, ingest
from casemgr.notifications.models import Notification
from tests.conftest import NOW
from tests.inbound.conftest import corpus


def test_the_same_message_at_once_is_stored_once(app, letter):
    raw = corpus("outlook_reply", letter)
    settings = InboundSettings.from_config(app.config)
    start = threading.Barrier(4)
    results, errors = [], []

    def worker() -> None:
        with app.app_context(), Session(db.engine) as session:
            try:
                start.wait(timeout=10)
                results.append(ingest(session, raw, now=NOW, settings=settings))
                session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(r.duplicate for r in results) == [False, True, True, True]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(InboundMail.id))) == 1
    events = select(func.count(CaseEvent.id)).where(CaseEvent.action == "provider_reply")
    assert db.session.scalar(events) == 2
    assert db.session.scalar(select(func.count(Notification.id))) == 1
