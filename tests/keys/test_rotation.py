"""``flask --app wsgi keys rotate-contact``: every value of the registry moved to
the newest key, checked first, resumable, audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from casemgr.keys import rotation
from casemgr.keys.registry import ENCRYPTED_COLUMNS
from tests.keys.helpers import (
    all_readable_with,
    count_under,
    new_key,
    plaintext,
    rows,
    seal,
    stored,
    use_keys,
)


def rotate(runner, *args: str):
    return runner.invoke(args=["keys", "rotate-contact", *args])


def audit_entries() -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "keys.rotate_contact")
            .order_by(AuditEntry.id)
        )
    )


def total_values() -> int:
    return sum(len(values) for values in stored().values())


def test_two_keys_every_value_moves_to_the_newest(app, runner, make):
    old, new = new_key(), new_key()
    rows(make)
    seal([old])
    values = total_values()
    assert values >= 3 * len(ENCRYPTED_COLUMNS)
    use_keys(app, new, old)

    result = rotate(runner, "--batch-size", "2")

    assert result.exit_code == 0, result.output
    assert f"Done: {values} value(s) re-encrypted with the newest key; 0 were" in result.output
    assert count_under(new) == values and count_under(old) == 0
    assert all_readable_with(new)  # the newest key alone opens every value
    # The running app reads them too (its cipher holds both keys until the old one goes).
    assert app.extensions["casemgr.cipher"].decrypt(stored()["submissions.reporter_contact"][1])


def test_three_keys_values_under_each_older_key_and_the_newest(app, runner, make):
    oldest, older, newest = new_key(), new_key(), new_key()
    rows(make, count=4)
    under = seal([oldest, older, newest])
    values = total_values()
    already = sum(1 for keys in under.values() for key in keys.values() if key == newest)
    use_keys(app, newest, older, oldest)

    dry = rotate(runner, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "under previous key 1" in dry.output and "under previous key 2" in dry.output
    assert f"Dry run: {values - already} value(s) would be re-encrypted" in dry.output
    assert count_under(newest) == already  # the dry run changed nothing

    result = rotate(runner)

    assert result.exit_code == 0, result.output
    assert f"{values - already} value(s) re-encrypted" in result.output
    assert f"{already} were under it already" in result.output
    assert count_under(newest) == values
    assert all_readable_with(newest)


def test_a_value_under_a_missing_key_stops_it_before_any_change(app, runner, make):
    lost, old, new = new_key(), new_key(), new_key()
    rows(make, count=4)
    under = seal([old, old, lost])  # every third value under a key no longer configured
    before = stored()
    use_keys(app, new, old)

    result = rotate(runner, "--batch-size", "1")

    assert result.exit_code == 1
    assert stored() == before  # nothing changed, not even the readable ones
    for target in ENCRYPTED_COLUMNS:
        ids = [row_id for row_id, key in under[target.name].items() if key == lost]
        assert f"{target.name}: {len(ids)} row(s) (ids {', '.join(map(str, ids))})" in (
            result.output
        )
    missing = sum(1 for keys in under.values() for key in keys.values() if key == lost)
    assert f"{missing} stored value(s) cannot be decrypted" in result.output
    assert "nothing was changed" in result.output
    assert new not in result.output and old not in result.output  # never a key
    (entry,) = audit_entries()
    assert entry.details["outcome"] == "refused" and entry.details["unreadable"] == missing
    assert entry.details["rotated"] == 0


def test_refusal_names_only_the_first_few_ids(app, runner, make):
    lost, new = new_key(), new_key()
    rows(make, count=7)
    seal([lost])
    use_keys(app, new)

    result = rotate(runner, "--dry-run")

    assert result.exit_code == 1
    assert "submissions.reporter_contact: 7 row(s) (ids 1, 2, 3, 4, 5, ...)" in result.output
    assert audit_entries() == []  # a dry run writes nothing, not even its refusal


def test_a_run_stopped_between_batches_goes_on_when_run_again(app, runner, make, monkeypatch):
    old, new = new_key(), new_key()
    rows(make, count=5)
    seal([old])
    values = total_values()
    use_keys(app, new, old)
    real = rotation.rotate

    def crash_after_first_batch(session, cipher, target, **options):
        for tally in real(session, cipher, target, **options):
            yield tally  # the command commits here
            raise RuntimeError("killed between batches")

    monkeypatch.setattr(rotation, "rotate", crash_after_first_batch)
    stopped = rotate(runner, "--batch-size", "2")

    assert stopped.exit_code != 0
    assert isinstance(stopped.exception, RuntimeError)
    assert "Stopped in submissions.reporter_contact" in stopped.output
    assert count_under(new) == 2  # the first batch stands
    assert count_under(old) == values - 2
    (interrupted,) = audit_entries()
    assert interrupted.details["outcome"] == "interrupted"
    assert interrupted.details["rotated"] == 2

    monkeypatch.setattr(rotation, "rotate", real)
    again = rotate(runner, "--batch-size", "2")

    assert again.exit_code == 0, again.output
    assert f"{values - 2} value(s) re-encrypted with the newest key; 2 were under it" in (
        again.output
    )
    assert all_readable_with(new)
    assert [entry.details["outcome"] for entry in audit_entries()] == ["interrupted", "done"]


def test_one_audit_entry_per_run_with_counts_and_no_values(app, runner, make):
    old, new = new_key(), new_key()
    rows(make)
    seal([old, new])
    use_keys(app, new, old)
    from casemgr.crypto import key_id

    result = rotate(runner, "--now", "2026-12-01T06:00Z")

    assert result.exit_code == 0, result.output
    (entry,) = audit_entries()
    details = entry.details
    assert details["outcome"] == "done"
    assert details["key_id"] == key_id(new) and details["previous_key_ids"] == [key_id(old)]
    assert details["rotated"] + details["already_current"] == total_values()
    assert details["columns"]["submissions.reporter_contact"] == {
        "values": 3,
        "rotated": 2,
        "already_current": 1,
    }
    assert entry.created_at.isoformat() == "2026-12-01T06:00:00+00:00"
    text = json.dumps(details)
    assert "gAAAA" not in text and "@example.org" not in text  # no ciphertext, no plaintext
    assert new not in text and old not in text
    assert rotate(runner).exit_code == 0
    second = audit_entries()[-1].details
    assert second["rotated"] == 0 and second["already_current"] == total_values()


def test_a_value_changed_while_it_ran_is_left_as_the_change_made_it(app, make):
    old, new = new_key(), new_key()
    rows(make, count=2)
    seal([old])
    cipher = use_keys(app, new, old)
    target = ENCRYPTED_COLUMNS[0]
    table = target.model.__table__

    class PurgingMeanwhile(type(cipher)):
        def rotate(self, token):
            # The retention job purges the first contact after it was read.
            db.session.execute(
                table.update().where(target.primary_key == 1).values({target.attribute: None})
            )
            return super().rotate(token)

    purging = PurgingMeanwhile(new, [old])
    (tally,) = list(rotation.rotate(db.session, purging, target, batch_size=10))
    db.session.commit()

    assert tally.changed_meanwhile == 1 and tally.rotated == 1
    assert 1 not in stored()[target.name]  # purged stays purged


@pytest.mark.parametrize("kind", ["bytes", "text"])
def test_a_text_column_keeps_text(app, make, kind):
    """A column added later may hold the token as text: it is written back as text."""
    from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, Text, insert

    from casemgr.keys.registry import EncryptedColumn

    old, new = new_key(), new_key()
    cipher = use_keys(app, new, old)
    table = Table(
        f"rotation_probe_{kind}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("secret", Text if kind == "text" else LargeBinary),
    )
    table.create(db.engine)
    try:
        token = type(cipher)(old).encrypt("probe")
        value = token.decode() if kind == "text" else token
        db.session.execute(insert(table).values(id=1, secret=value))

        class Probe:
            __table__ = table
            __tablename__ = table.name

        list(rotation.rotate(db.session, cipher, EncryptedColumn(Probe, "secret")))  # type: ignore[arg-type]
        after = db.session.scalar(select(table.c.secret))
        db.session.commit()
        assert isinstance(after, str if kind == "text" else bytes)
        assert type(cipher)(new).decrypt(after.encode() if kind == "text" else after) == "probe"
    finally:
        db.session.rollback()
        table.drop(db.engine)


def test_help_says_partner_tokens_to_us_are_hashes(runner):
    result = runner.invoke(args=["keys", "rotate-contact", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())  # as click wraps it
    assert "stored as hashes" in text and "rotation does not apply" in text
    assert "reporters' contact details and messages" in text


def test_nothing_stored_nothing_to_do(app, runner):
    new = new_key()
    use_keys(app, new, new_key())
    result = rotate(runner)
    assert result.exit_code == 0, result.output
    assert "Done: 0 value(s) re-encrypted" in result.output
    assert plaintext(ENCRYPTED_COLUMNS[0], 1) == "submissions.reporter_contact#1"
