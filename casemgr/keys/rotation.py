"""Moving the values of :data:`~casemgr.keys.registry.ENCRYPTED_COLUMNS` to the
newest contact key, a batch at a time.

Both walks go through a column by primary key (``id > last``), one batch per
step, and yield after each so that the caller ends its transaction there:
:func:`survey` only reads (which key opens each value), :func:`rotate`
re-encrypts with the newest key and flushes, and the caller commits. A run
that stops between batches leaves every batch before it committed; the next
run tells a value already under the newest key by decrypting it with that
key alone (one decryption, nothing written) and skips it.

A value is written back only if it is still what was read (compare and set):
one changed meanwhile (a contact purged, a second factor set up again) is
left as the change made it and counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from casemgr.crypto import ContactCipher
from casemgr.keys.registry import EncryptedColumn

BATCH_SIZE = 500
SAMPLE_IDS = 5  # ids of unreadable rows named per table


@dataclass
class ColumnTally:
    """What a walk found in one column."""

    name: str
    values: int = 0
    by_key: Counter[int] = field(default_factory=Counter)  # key position -> values
    unreadable: int = 0
    unreadable_ids: list[object] = field(default_factory=list)
    rotated: int = 0
    changed_meanwhile: int = 0

    @property
    def current(self) -> int:
        """Values under the newest key (found so, not rotated by this walk)."""
        return self.by_key[0]

    @property
    def under_older_keys(self) -> int:
        return sum(count for position, count in self.by_key.items() if position > 0)

    def copy(self) -> ColumnTally:
        return replace(self, by_key=Counter(self.by_key), unreadable_ids=list(self.unreadable_ids))

    def note_unreadable(self, row_id: object) -> None:
        self.unreadable += 1
        if len(self.unreadable_ids) < SAMPLE_IDS:
            self.unreadable_ids.append(row_id)

    def as_dict(self) -> dict[str, int]:
        """The counts (never a value), for the audit entry."""
        counts = {
            "values": self.values,
            "rotated": self.rotated,
            "already_current": self.current,
            "changed_meanwhile": self.changed_meanwhile,
            "unreadable": self.unreadable,
        }
        return {name: count for name, count in counts.items() if count or name == "values"}


def _batches(
    session: Session, target: EncryptedColumn, batch_size: int
) -> Iterator[Sequence[tuple[object, bytes | str]]]:
    """The non-null values of ``target`` with their ids, ``batch_size`` at a time."""
    key, column = target.primary_key, target.column
    last = None
    while True:
        query = select(key, column).where(column.is_not(None)).order_by(key).limit(batch_size)
        if last is not None:
            query = query.where(key > last)
        rows = session.execute(query).all()
        if not rows:
            return
        yield [(row[0], row[1]) for row in rows]
        last = rows[-1][0]


def _token(value: bytes | str) -> bytes:
    return value.encode("ascii") if isinstance(value, str) else bytes(value)


def survey(
    session: Session,
    cipher: ContactCipher,
    target: EncryptedColumn,
    *,
    batch_size: int = BATCH_SIZE,
) -> Iterator[ColumnTally]:
    """Which key opens each value of ``target``; yields the tally so far after
    each batch (the caller may end the read transaction there)."""
    tally = ColumnTally(target.name)
    for batch in _batches(session, target, batch_size):
        for row_id, value in batch:
            tally.values += 1
            position = cipher.key_position(_token(value))
            if position is None:
                tally.note_unreadable(row_id)
            else:
                tally.by_key[position] += 1
        yield tally
    if not tally.values:
        yield tally


def rotate(
    session: Session,
    cipher: ContactCipher,
    target: EncryptedColumn,
    *,
    batch_size: int = BATCH_SIZE,
) -> Iterator[ColumnTally]:
    """Re-encrypt with the newest key every value of ``target`` under an older
    one; flushes each batch and yields the tally so far (the caller commits).

    A value no key opens (written under a key missing from the list after the
    check that came before) is left as it is and counted as unreadable.
    """
    tally = ColumnTally(target.name)
    key, column = target.primary_key, target.column
    # One statement for the batch (executemany): compare and set, row by row.
    statement = (
        update(target.model.__table__)
        .where(
            key == bindparam("rotated_id", type_=key.type),
            column == bindparam("rotated_old", type_=column.type),
        )
        .values({column.name: bindparam("rotated_new", type_=column.type)})
    )
    for batch in _batches(session, target, batch_size):
        changes = []
        for row_id, value in batch:
            tally.values += 1
            token = _token(value)
            position = cipher.key_position(token)
            if position is None:
                tally.note_unreadable(row_id)
            elif position == 0:
                tally.by_key[0] += 1
            else:
                fresh = cipher.rotate(token)
                new = fresh.decode("ascii") if isinstance(value, str) else fresh
                changes.append({"rotated_id": row_id, "rotated_old": value, "rotated_new": new})
        if changes:
            written = session.execute(statement, changes).rowcount
            tally.rotated += written
            tally.changed_meanwhile += len(changes) - written
        session.flush()
        yield tally
    if not tally.values:
        yield tally
