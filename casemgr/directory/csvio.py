"""The directory as a CSV file: export, and import that checks every row first.

The layout is documented in docs/directory-csv.md. An import saves all its
rows or none: every bad row is reported by its line number and nothing is
written while one is bad. A row with an ``id`` updates that organisation; a
row without one adds a new organisation, and is refused when the directory
(or an earlier row) has one of the same kind, name and country already.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casemgr.audit.services import record
from casemgr.directory.inputs import OrganisationInput, validate
from casemgr.directory.models import Organisation
from casemgr.directory.operations import apply_update, insert, update_problems
from casemgr.directory.queries import duplicate_message, key_of
from casemgr.domain import Actor
from casemgr.errors import ValidationFailed

COLUMNS = (
    "id",
    "kind",
    "name",
    "country",
    "email",
    "language",
    "active",
    "domains",
    "networks",
    "address",
    "notes",
)
REQUIRED_COLUMNS = ("kind", "name", "country", "email", "language", "domains", "networks")
_YES = {"yes", "true", "1", "y", "active"}
_NO = {"no", "false", "0", "n", "inactive", "deactivated"}


@dataclass(frozen=True)
class Problem:
    """Something wrong with the file; ``line`` is None for the file as a whole."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ImportFailed(Exception):
    """The file was refused; nothing was saved. ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass
class ImportResult:
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        return (
            f"{self.rows} row(s): {len(self.created)} {verb} added, "
            f"{len(self.updated)} {verb} changed, {self.unchanged} unchanged."
        )


# --- export


def export_csv(session: Session, *, now: datetime, actor: Actor, source: str) -> str:
    """Every organisation, active or not, as CSV text (the caller encodes it;
    UTF-8 with a byte order mark opens correctly in spreadsheets). Audited."""
    organisations = session.scalars(
        select(Organisation)
        .options(selectinload(Organisation.domains), selectinload(Organisation.networks))
        .order_by(Organisation.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for organisation in organisations:
        writer.writerow(
            [
                organisation.id,
                organisation.kind,
                organisation.name,
                organisation.country or "",
                organisation.email or "",
                organisation.language,
                "yes" if organisation.active else "no",
                " ".join(organisation.domain_names),
                " ".join(organisation.cidrs),
                organisation.address,
                organisation.notes,
            ]
        )
    record(
        session,
        action="directory.export",
        now=now,
        actor_id=actor.id,
        target_type="directory",
        details={"organisations": len(organisations), "source": source},
    )
    session.flush()
    return out.getvalue()


# --- import


@dataclass
class _Row:
    line: int
    id: int | None
    clean: OrganisationInput
    target: Organisation | None = None


def import_csv(
    session: Session,
    data: bytes | str,
    *,
    now: datetime,
    actor: Actor,
    source: str,
    dry_run: bool = False,
) -> ImportResult:
    """Check every row of ``data``; unless ``dry_run``, save them all.

    Raises ImportFailed listing every problem (nothing is saved then)."""
    header, records = _read(data)
    problems: list[Problem] = []
    rows: list[_Row] = []
    for line, values in records:
        row = _parse_row(session, line, dict(zip(header, values, strict=True)), problems)
        if row is not None:
            rows.append(row)
    _check_across_rows(session, rows, problems)
    if problems:
        raise ImportFailed(problems)

    result = ImportResult(rows=len(records), dry_run=dry_run)
    for row in rows:
        if row.target is None:
            result.created.append(row.clean.name)
        elif _differs(row.target, row.clean):
            result.updated.append(row.clean.name)
        else:
            result.unchanged += 1
    if dry_run:
        return result

    for row in rows:  # updates first, so that names swapped between rows never clash
        if row.target is not None:
            apply_update(session, row.target, row.clean, now=now, actor=actor, source="import")
    for row in rows:
        if row.target is None:
            insert(session, row.clean, now=now, actor=actor, source="import")
    record(
        session,
        action="directory.import",
        now=now,
        actor_id=actor.id,
        target_type="directory",
        details={
            "rows": result.rows,
            "created": len(result.created),
            "updated": len(result.updated),
            "unchanged": result.unchanged,
            "source": source,
        },
    )
    session.flush()
    return result


def _read(data: bytes | str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header's column names and the (line number, values) of each
    non-blank record; ImportFailed for a file that cannot be read at all."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFailed(
                [
                    Problem(
                        0,
                        f"the file is not UTF-8 text (byte {exc.start + 1} is not valid); "
                        "save it as 'CSV UTF-8'",
                    )
                ]
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    if not text.strip():
        raise ImportFailed([Problem(0, "the file is empty")])

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    header_line = next_line = 1
    try:
        for values in reader:
            line, next_line = next_line, reader.line_num + 1
            if header is None:
                header = values
                header_line = line
                continue
            if all(not value.strip() for value in values):
                continue
            records.append((line, values))
    except csv.Error as exc:
        raise ImportFailed([Problem(next_line, f"not readable as CSV: {exc}")]) from None

    names = _check_header(header or [], header_line)
    problems = [
        Problem(
            line,
            f"has {len(values)} value(s) but the header has {len(names)} column(s) "
            "(a value holding a comma must be in double quotes)",
        )
        for line, values in records
        if len(values) != len(names)
    ]
    if problems:
        raise ImportFailed(problems)
    if not records:
        raise ImportFailed([Problem(0, "the file has a header but no rows")])
    return names, records


def _check_header(header: list[str], line: int) -> list[str]:
    names = [name.strip().lower() for name in header]
    expected = f"expected columns: {', '.join(COLUMNS)} (id, active, address, notes optional)"
    if len(names) == 1 and ";" in names[0]:
        raise ImportFailed(
            [Problem(line, f"the columns are separated by ';'; use commas. {expected}")]
        )
    problems = []
    unknown = [f"'{name}'" for name in names if name not in COLUMNS]
    if unknown:
        problems.append(Problem(line, f"unknown column(s): {', '.join(unknown)}; {expected}"))
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(Problem(line, f"column(s) given twice: {', '.join(repeated)}"))
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        problems.append(Problem(line, f"missing column(s): {', '.join(missing)}; {expected}"))
    if problems:
        raise ImportFailed(problems)
    return names


def _parse_row(
    session: Session, line: int, values: dict[str, str], problems: list[Problem]
) -> _Row | None:
    found: list[str] = []
    organisation_id = None
    raw_id = values.get("id", "").strip()
    if raw_id:
        if raw_id.isdecimal() and 0 < int(raw_id) < 2**31:
            organisation_id = int(raw_id)
        else:
            found.append(f"id: '{raw_id}' is not an organisation id (a whole number)")
    active = None
    raw_active = values.get("active", "").strip().lower()
    if raw_active in _YES:
        active = True
    elif raw_active in _NO:
        active = False
    elif raw_active:
        found.append(f"active: '{raw_active}' must be yes or no")

    data = OrganisationInput(
        kind=values["kind"],
        name=values["name"],
        country=values["country"],
        email=values["email"],
        language=values["language"],
        address=values.get("address"),
        notes=values.get("notes"),
        domains=values["domains"],
        networks=values["networks"],
        active=active,
    )
    clean = None
    try:
        clean = validate(data)
    except ValidationFailed as exc:
        found.extend(f"{name}: {' '.join(messages)}" for name, messages in exc.fields.items())

    target = None
    if organisation_id is not None:
        target = session.get(Organisation, organisation_id)
        if target is None:
            found.append(
                f"id: no organisation has id {organisation_id} "
                "(leave id empty to add a new organisation)"
            )
        elif clean is not None:
            blocked = update_problems(session, target, clean, check_duplicates=False)
            found.extend(f"{name}: {' '.join(msgs)}" for name, msgs in blocked.items())
    problems.extend(Problem(line, message) for message in found)
    if found or clean is None:
        return None
    return _Row(line, organisation_id, clean, target)


def _check_across_rows(session: Session, rows: list[_Row], problems: list[Problem]) -> None:
    """Two rows for one id, or two organisations that would be the same one."""
    first_line_of_id: dict[int, int] = {}
    for row in rows:
        if row.id is None:
            continue
        if row.id in first_line_of_id:
            problems.append(
                Problem(row.line, f"id: {row.id} is on line {first_line_of_id[row.id]} already")
            )
        else:
            first_line_of_id[row.id] = row.line

    # The directory as it will be: organisations the file does not touch keep
    # their kind, name and country; the file's rows bring theirs.
    untouched: dict[tuple[str, str, str], Organisation] = {}
    for organisation in session.scalars(select(Organisation).order_by(Organisation.id)):
        if organisation.id not in first_line_of_id:
            key = key_of(organisation.kind, organisation.name, organisation.country)
            untouched.setdefault(key, organisation)
    line_of_key: dict[tuple[str, str, str], int] = {}
    for row in rows:
        key = key_of(row.clean.kind, row.clean.name, row.clean.country)
        where = f"{row.clean.kind} '{row.clean.name}' ({row.clean.country or 'no country'})"
        if key in line_of_key:
            problems.append(Problem(row.line, f"{where} is on line {line_of_key[key]} already"))
            continue
        line_of_key[key] = row.line
        if key in untouched:
            existing = untouched[key]
            hint = f"; put {existing.id} in the id column to update it" if row.id is None else ""
            problems.append(Problem(row.line, f"{duplicate_message(existing)}{hint}"))


def _differs(organisation: Organisation, clean: OrganisationInput) -> bool:
    for name in ("kind", "name", "country", "email", "language", "address", "notes", "active"):
        new = getattr(clean, name)
        if new is None and name in ("address", "notes", "active"):
            continue
        if new != getattr(organisation, name):
            return True
    if clean.domains is not None and sorted(clean.domains) != sorted(organisation.domain_names):
        return True
    return clean.networks is not None and sorted(clean.networks) != sorted(organisation.cidrs)
