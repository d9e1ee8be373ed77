"""``db copy``'s closing check: the rows of every table counted on both sides, and
the audit log's chain walked on the target as ``flask audit verify`` walks it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from casemgr.audit import checkpoints, verification
from casemgr.audit.chain import GENESIS
from casemgr.audit.keys import AuditKeys
from casemgr.ops.copy_rows import count


@dataclass(frozen=True)
class TableCount:
    name: str
    source: int
    target: int

    @property
    def same(self) -> bool:
        return self.source == self.target


def counts(source: sqlite3.Connection, target: Connection, names: list[str]) -> list[TableCount]:
    quote = target.dialect.identifier_preparer.quote
    found = [
        TableCount(
            name,
            count(source, name),
            target.scalar(sa.text(f"SELECT count(*) FROM {quote(name)}")),  # noqa: S608
        )
        for name in names
    ]
    target.rollback()
    return found


def count_lines(found: list[TableCount]) -> list[str]:
    width = max(len(item.name) for item in found)
    lines = [f"{'table':<{width}}  {'source':>12}  {'target':>12}"]
    for item in found:
        mark = "" if item.same else "  DIFFERS"
        lines.append(f"{item.name:<{width}}  {item.source:>12,}  {item.target:>12,}{mark}")
    return lines


@dataclass
class AuditCheck:
    ok: bool
    line: str


def audit_chain(
    source: sqlite3.Connection, target: Connection, keys: AuditKeys, installation: str
) -> AuditCheck:
    """Walk the target's chain; its last entry must be the source's last, and the
    checkpoints stored in it must sign and match it."""
    with Session(bind=target) as session:
        verdict = verification.verify(session, keys)
        stored = checkpoints.stored(session)
        problems = []
        for row in stored if verdict.ok else []:
            try:
                checkpoint = checkpoints.parse(row.line)
            except ValueError as exc:
                problems.append(f"checkpoint {row.id}: {exc}")
                continue
            problem = checkpoints.signature_problem(
                checkpoint, keys, installation
            ) or checkpoints.chain_problem(checkpoint, verdict)
            if problem:
                problems.append(f"checkpoint {row.id}: {problem}")
        session.rollback()
    last = source.execute(
        "SELECT id, entry_hash FROM audit_log ORDER BY id DESC LIMIT 1"
    ).fetchone()
    last_id, last_hash = last if last else (0, GENESIS)
    if not verdict.ok:
        return AuditCheck(
            False,
            f"audit chain on the target: BROKEN at entry {verdict.broken_id} (entry "
            f"{verdict.count} of the chain): {verdict.reason}. Run flask --app wsgi audit "
            "verify on the source too: if it is broken there, the copy only carried it over.",
        )
    if (verdict.last_id, verdict.last_hash) != (last_id, last_hash):
        return AuditCheck(
            False,
            f"audit chain on the target: it ends at entry {verdict.last_id}, the source's "
            f"at entry {last_id}",
        )
    if problems:
        return AuditCheck(False, "audit chain on the target: " + "; ".join(problems))
    held = f", {len(stored)} stored checkpoints match it" if stored else ""
    return AuditCheck(
        True,
        f"audit chain on the target: OK, {verdict.count:,} entries, last hash "
        f"{verdict.last_hash} (the source's last entry, {last_id}){held}",
    )
