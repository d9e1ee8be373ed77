"""Stored values under chosen contact keys, in every column of the registry."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import select, update

from casemgr import context
from casemgr.crypto import ContactCipher
from casemgr.extensions import db
from casemgr.keys.registry import ENCRYPTED_COLUMNS
from casemgr.outbox.models import OutboxMessage
from casemgr.reporter.models import ReporterMessage


def new_key() -> str:
    return ContactCipher.generate_key()


def use_keys(app, newest: str, *previous: str) -> ContactCipher:
    """The running app's cipher from now on, as a restart with these settings makes it."""
    cipher = ContactCipher.from_config(
        {"CONTACT_ENCRYPTION_KEY": newest, "CONTACT_ENCRYPTION_PREVIOUS_KEYS": list(previous)}
    )
    app.extensions["casemgr.cipher"] = cipher
    return cipher


def rows(make, count: int = 3) -> None:
    """``count`` rows in every table of the registry (the values come from :func:`seal`)."""
    now = context.now()
    for number in range(count):
        result = make.report(reporter_contact=f"reporter{number}@example.org")
        db.session.add(
            OutboxMessage(
                kind="feedback",
                submission_id=result.submission.id,
                next_attempt_at=now,
                created_at=now,
            )
        )
        db.session.add(
            ReporterMessage(
                submission_id=result.submission.id, sender="reporter", body=b"-", created_at=now
            )
        )
        make.user("analyst", two_factor=False)
        make.organisation("hotline", email=f"hotline{number}@partner.example.org")
    db.session.commit()


def plaintext(target, row_id) -> str:
    return f"{target.name}#{row_id}"


def seal(keys: list[str]) -> dict[str, dict[object, str]]:
    """Every row of every registry column given a value under ``keys`` in turn;
    returns the key each value is under, by column name and id."""
    under: dict[str, dict[object, str]] = {}
    for target in ENCRYPTED_COLUMNS:
        ids = db.session.scalars(select(target.primary_key).order_by(target.primary_key)).all()
        under[target.name] = {}
        for index, row_id in enumerate(ids):
            key = keys[index % len(keys)]
            token = Fernet(key).encrypt(plaintext(target, row_id).encode())
            db.session.execute(
                update(target.model.__table__)
                .where(target.primary_key == row_id)
                .values({target.column.name: token})
            )
            under[target.name][row_id] = key
    db.session.commit()
    return under


def stored() -> dict[str, dict[object, bytes]]:
    """The stored values, by column name and id."""
    db.session.expire_all()
    found = {}
    for target in ENCRYPTED_COLUMNS:
        query = select(target.primary_key, target.column).where(target.column.is_not(None))
        found[target.name] = {row[0]: bytes(row[1]) for row in db.session.execute(query)}
    db.session.rollback()
    return found


def all_readable_with(key: str, *, alone: bool = True) -> bool:
    """Every stored value decrypts with ``key`` alone, to what was sealed."""
    cipher = ContactCipher(key)
    for target in ENCRYPTED_COLUMNS:
        for row_id, token in stored()[target.name].items():
            if cipher.decrypt(token) != plaintext(target, row_id):
                return False
    return True


def count_under(key: str) -> int:
    fernet = Fernet(key)
    count = 0
    for values in stored().values():
        for token in values.values():
            try:
                fernet.decrypt(token)
            except Exception:  # noqa: S112 - under another key
                continue
            count += 1
    return count
