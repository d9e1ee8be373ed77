"""The scheduled backup: a timestamped backup in BACKUP_DIR, the oldest beyond BACKUP_KEEP removed.

Off unless ``BACKUP_DIR`` is set: then the run makes nothing and says so, and
the scheduler does not start it. When on, the scheduler runs it often (hourly)
and it makes a backup only when its newest is ``BACKUP_INTERVAL_HOURS`` old,
so a restarted scheduler (which runs every job at start) does not make one
more. Each backup is ``BACKUP_DIR/casemgr-backup-<UTC time>`` (``db backup``'s
format, audited as ``db.backup``). Then the job's own backups beyond the
newest ``BACKUP_KEEP`` are deleted, oldest first, with any it left unfinished
before the newest: only directories of its own name whose manifest says the
job made them. A backup an operator wrote there with ``db backup`` stays.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from casemgr.jobs.base import JobSummary
from casemgr.ops.backup import make_backup, record_backup, size_text
from casemgr.ops.backup_manifest import MANIFEST, BackupError, read

NAME = "backup"
PREFIX = "casemgr-backup-"
STAMP = "%Y%m%dT%H%M%SZ"
OWN_NAME = re.compile(r"casemgr-backup-(\d{8}T\d{6}Z)")
MADE_BY = "job"


@dataclass(frozen=True)
class BackupSettings:
    directory: Path
    keep: int
    interval: timedelta

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BackupSettings | None:
        """The settings, or None when the job is off (BACKUP_DIR empty); ValueError
        naming a setting that is wrong."""
        directory = config.get("BACKUP_DIR") or ""
        if not directory:
            return None
        keep = config.get("BACKUP_KEEP", 7)
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValueError(f"BACKUP_KEEP must be a whole number of backups, 1 or more: {keep!r}")
        hours = config.get("BACKUP_INTERVAL_HOURS", 24)
        if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
            raise ValueError(f"BACKUP_INTERVAL_HOURS must be a positive number: {hours!r}")
        return cls(Path(str(directory)), keep, timedelta(hours=hours))


@dataclass
class BackupSummary(JobSummary):
    enabled: bool = True
    made: str = ""
    size: int = 0
    not_due: str = ""
    removed: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)  # left by a run that stopped
    kept: int = 0

    def line(self) -> str:
        head = f"{self.job} as of {self.now.isoformat()}: "
        if not self.enabled:
            return head + (
                "disabled: BACKUP_DIR is not set, no backup made (scheduled backups are off; "
                "see docs/deployment.md, Backups)"
            )
        parts = []
        if self.made:
            parts.append(f"made {self.made} ({size_text(self.size)})")
        elif self.not_due:
            parts.append(f"not due: {self.not_due}")
        else:
            parts.append("no backup made")
        removed = f" ({', '.join(self.removed)})" if self.removed else ""
        parts.append(f"{len(self.removed)} old removed{removed}")
        if self.unfinished:
            parts.append(
                f"{len(self.unfinished)} unfinished removed ({', '.join(self.unfinished)})"
            )
        parts.append(f"{self.kept} kept")
        parts.append(f"{self.failed} failed")
        return head + "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(),
            "enabled": self.enabled,
            "made": self.made,
            "size": self.size,
            "not_due": self.not_due,
            "removed": self.removed,
            "unfinished": self.unfinished,
            "kept": self.kept,
        }


@dataclass(frozen=True)
class OwnBackups:
    finished: list[tuple[datetime, Path]]  # oldest first
    unfinished: list[tuple[datetime, Path]]


def own_backups(directory: Path) -> OwnBackups:
    """The backups this job made in ``directory``: its name, and its manifest (or none yet)."""
    finished, unfinished = [], []
    for entry in directory.iterdir():
        match = OWN_NAME.fullmatch(entry.name)
        if not match or entry.is_symlink() or not entry.is_dir():
            continue
        stamp = _stamp(match.group(1))
        if not (entry / MANIFEST).exists():
            unfinished.append((stamp, entry))
            continue
        try:
            manifest = read(entry)
        except BackupError:
            continue  # not one we can vouch for: left alone
        if manifest.made_by == MADE_BY:
            finished.append((manifest.created_at, entry))
    return OwnBackups(sorted(finished), sorted(unfinished))


def run(session: Session, now: datetime, app: Flask) -> BackupSummary:
    summary = BackupSummary(NAME, now)
    try:
        settings = BackupSettings.from_config(app.config)
    except ValueError as exc:
        summary.failures.append(str(exc))
        return summary
    if settings is None:
        summary.enabled = False
        return summary
    if not settings.directory.is_dir():
        summary.failures.append(f"BACKUP_DIR {settings.directory} is not a directory")
        return summary
    backups = own_backups(settings.directory)
    finished = list(backups.finished)
    newest = finished[-1] if finished else None
    if newest and now - newest[0] < settings.interval:
        age = _hours(now - newest[0])
        summary.not_due = (
            f"the newest, {newest[1].name}, is {age} old "
            f"(BACKUP_INTERVAL_HOURS {_hours(settings.interval)})"
        )
    else:
        path = settings.directory / (PREFIX + now.strftime(STAMP))
        try:
            manifest = make_backup(
                session.get_bind(),
                path,
                now=now,
                made_by=MADE_BY,
                pg_bin=str(app.config.get("BACKUP_PG_BIN") or ""),
            )
        except BackupError as exc:
            summary.failures.append(str(exc))
        else:
            record_backup(session, path, manifest, now)
            finished.append((now, path))
            summary.made = path.name
            summary.size = manifest.dump.size
    newest_time = finished[-1][0] if finished else None
    old = finished[: -settings.keep]
    abandoned = [item for item in backups.unfinished if newest_time and item[0] < newest_time]
    for _, path in old:
        _remove(path, summary, summary.removed)
    for _, path in abandoned:
        _remove(path, summary, summary.unfinished)
    summary.kept = len(finished) - len(old)
    return summary


def _remove(path: Path, summary: BackupSummary, done: list[str]) -> None:
    try:
        shutil.rmtree(path)
    except OSError as exc:
        summary.failures.append(f"cannot remove {path}: {exc.strerror or exc}")
    else:
        done.append(path.name)


def _stamp(text: str) -> datetime:
    return datetime.strptime(text, STAMP).replace(tzinfo=UTC)


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.1f} h" if hours % 1 else f"{int(hours)} h"
