"""Acting on many cases at once: each one through the workflow on its own.

A bulk action is the single-case action repeated, never a rule of its own:
every case goes through :func:`casemgr.cases.services.apply_action` (or, to
add a note, :func:`casemgr.cases.notes.add_note`) with the same rules,
events (``events.case_acted``) and audit entry as when it is acted on alone,
inside a SAVEPOINT of its own. A case the action cannot be
taken on (its state, the actor's relation to it, a stale version, an id that
names no case) is reported back with the error the single-case path raises,
and the others still go through; nothing of a failed case stays behind.

What is wrong with the request as a whole (an unknown action, no ids, too
many, malformed or repeated ids, fields the action cannot take, malformed
versions) raises ValidationFailed before any case is touched. Like every
service, this one flushes and never commits: the caller commits once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casemgr.auth.models import User
from casemgr.cases import notes, services
from casemgr.cases.fields import FieldSpec, parse_fields
from casemgr.cases.models import Case
from casemgr.cases.states import Action
from casemgr.cases.workflow import RULES
from casemgr.database import MAX_ID, is_valid_id, savepoint
from casemgr.directory.models import Organisation
from casemgr.domain import Actor
from casemgr.errors import (
    InvalidTransition,
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from casemgr.settings import Timings

MAX_BULK_CASES = 500

TAKE = "take"
ADD_NOTE = "add_note"
NOTE_BODY = "body"
BULK_ACTIONS: tuple[str, ...] = (
    TAKE,
    Action.ASSIGN.value,
    Action.ASSESS.value,
    Action.MARK_DUPLICATE.value,
    Action.CLOSE_UNAVAILABLE.value,
    Action.REQUEST_NOTICE.value,
    Action.FORWARD_TO_PARTNER.value,
    Action.REFER_TO_POLICE.value,
    Action.CONFIRM_TAKEDOWN.value,
    ADD_NOTE,
)

# What one case can be refused with: the errors of the single-case path.
CaseError = InvalidTransition | PermissionDenied | ValidationFailed | NotFound | StaleVersion
_REFUSALS = (InvalidTransition, PermissionDenied, ValidationFailed, StaleVersion)


@dataclass(frozen=True)
class CaseOutcome:
    """What happened to one case of a bulk action.

    ``case`` is the case after the action when ``ok``, as found when not, and
    None when no case has the id; ``error`` is the single-case error.
    """

    case_id: int
    ok: bool
    case: Case | None
    error: CaseError | None


def workflow_action(action: str) -> str | None:
    """The workflow action a bulk action takes on each case ("take" is "assign");
    None for adding a note, which is not one."""
    if action == ADD_NOTE:
        return None
    return Action.ASSIGN.value if action == TAKE else action


def field_specs(action: str) -> tuple[FieldSpec, ...]:
    """The workflow fields ``action`` takes: its rule's; "take" takes none, and
    "add_note" only its ``body`` (judged by :func:`casemgr.cases.notes.clean_body`)."""
    workflow = workflow_action(action)
    if action == TAKE or workflow is None:
        return ()
    return RULES[Action(workflow)].fields


def field_names(action: str) -> set[str]:
    """The names of the fields ``action`` takes."""
    if action == ADD_NOTE:
        return {NOTE_BODY}
    return {spec.name for spec in field_specs(action)}


def apply_to_many(
    session: Session,
    action: str,
    case_ids: Sequence[int],
    fields: Mapping[str, Any],
    *,
    actor: Actor,
    now: datetime,
    timings: Timings,
    versions: Mapping[int, int] | None = None,
) -> list[CaseOutcome]:
    """Take ``action`` on each case of ``case_ids``; one outcome per id, in their order.

    ``fields`` are the action's fields, the same for every case (names the
    action does not take are ignored, as by ``apply_action``); "take" assigns
    each case to ``actor``; "add_note" adds the note ``body`` to each case.
    ``versions`` (case id to version) asks for each case named in it to be
    acted on only if it still has that version.

    ``case_ids`` must be distinct whole numbers: a repeated id is refused
    rather than silently merged, so that the outcomes answer the ids given
    one for one. Cases are acted on in the order of their ids (two bulk
    actions on overlapping cases then take their row locks in the same
    order and cannot deadlock); the outcomes come in the order given.

    Raises ValidationFailed, naming ``action``, ``case_ids``, ``versions`` or
    the action's fields, before any case is touched.
    """
    ids, expected, values = check_request(action, case_ids, fields, versions)
    fields = _fields_for_each_case(session, action, fields, values, actor)
    # The session keeps what it loaded only while something refers to it: held
    # here, the user or organisation the fields name is read once, not per case.
    _held = _referenced(session, action, values, actor)
    found = {
        case.id: case
        for case in session.scalars(
            select(Case)
            .where(Case.id.in_(ids))
            # What the case's subscribers read (the reporter's feedback on closing).
            .options(selectinload(Case.submission))
        )
    }
    outcomes: dict[int, CaseOutcome] = {}
    for case_id in sorted(ids):
        case = found.get(case_id)
        if case is None:
            outcomes[case_id] = CaseOutcome(
                case_id, False, None, NotFound(f"no case with id {case_id}")
            )
            continue
        outcomes[case_id] = _act(
            session,
            case,
            action,
            fields,
            actor=actor,
            now=now,
            timings=timings,
            expected_version=expected.get(case_id),
        )
    return [outcomes[case_id] for case_id in ids]


def _act(
    session: Session,
    case: Case,
    action: str,
    fields: Mapping[str, Any],
    *,
    actor: Actor,
    now: datetime,
    timings: Timings,
    expected_version: int | None,
) -> CaseOutcome:
    """One case, all or nothing: what a refusal leaves is rolled back to the savepoint."""
    case_id = case.id
    workflow = workflow_action(action)
    try:
        with savepoint(session):
            if workflow is not None:
                services.apply_action(
                    session,
                    case,
                    workflow,
                    fields,
                    actor=actor,
                    now=now,
                    timings=timings,
                    expected_version=expected_version,
                )
            else:
                if expected_version is not None and expected_version != case.version:
                    raise services.stale_version(session, case_id)
                notes.add_note(session, case, fields[NOTE_BODY], actor=actor, now=now)
    except _REFUSALS as exc:
        error: CaseError = exc
        if isinstance(exc, StaleVersion) and exc.current_version is None:
            # Caught at the write (another transaction updated the row first). Its
            # own description would roll back the whole session: only the
            # savepoint was, so ask for the case's version here.
            error = services.stale_version(session, case_id)
        return CaseOutcome(case_id, False, case, error)
    return CaseOutcome(case_id, True, case, None)


# --- the request as a whole


def check_request(
    action: str,
    case_ids: Sequence[int],
    fields: Mapping[str, Any],
    versions: Mapping[int, int] | None,
) -> tuple[list[int], dict[int, int], dict[str, Any]]:
    """The ids, the expected versions and the clean fields (parsed with the
    workflow's field specs); raises ValidationFailed naming what is wrong."""
    if action not in BULK_ACTIONS:
        raise ValidationFailed({"action": [f"must be one of: {', '.join(BULK_ACTIONS)}"]})
    errors: dict[str, list[str]] = {}
    ids = _case_ids(case_ids, errors)
    expected = _versions(versions, ids, errors)
    values, field_errors = parse_fields(field_specs(action), fields)
    errors |= field_errors
    if action == ADD_NOTE:
        errors |= _note_errors(fields, values)
    if errors:
        raise ValidationFailed(errors)
    return ids, expected, values


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _note_errors(fields: Mapping[str, Any], values: dict[str, Any]) -> dict[str, list[str]]:
    """The note's text, checked once as ``add_note`` checks it, into ``values``."""
    if fields.get(NOTE_BODY) is None:
        return {NOTE_BODY: ["is required"]}
    try:
        values[NOTE_BODY] = notes.clean_body(fields[NOTE_BODY])
    except ValidationFailed as exc:
        return exc.fields
    return {}


def _case_ids(case_ids: Any, errors: dict[str, list[str]]) -> list[int]:
    if not isinstance(case_ids, Sequence) or isinstance(case_ids, str | bytes):
        errors["case_ids"] = ["must be a list of case ids"]
        return []
    if not case_ids:
        errors["case_ids"] = ["must list at least one case"]
        return []
    if len(case_ids) > MAX_BULK_CASES:
        errors["case_ids"] = [
            f"must list at most {MAX_BULK_CASES} cases at once ({len(case_ids)} were given)"
        ]
        return []
    messages = [
        f"case_ids[{index}]: must be a case id, a whole number from 1 to {MAX_ID}"
        for index, value in enumerate(case_ids)
        if not _is_id(value)
    ]
    if not messages:
        seen: set[int] = set()
        repeated = [value for value in case_ids if value in seen or seen.add(value)]
        messages = [f"case {value} is listed more than once" for value in dict.fromkeys(repeated)]
    if messages:
        errors["case_ids"] = messages
        return []
    return list(case_ids)


def _versions(versions: Any, ids: list[int], errors: dict[str, list[str]]) -> dict[int, int]:
    if versions is None:
        return {}
    if not isinstance(versions, Mapping):
        errors["versions"] = ["must map case ids to the versions you saw"]
        return {}
    messages = []
    listed = set(ids)
    for case_id, version in versions.items():
        if not _is_id(case_id):
            messages.append(f"{case_id!r} is not a case id")
        elif ids and case_id not in listed:
            messages.append(f"case {case_id} is not in case_ids")
        elif not (isinstance(version, int) and not isinstance(version, bool) and version >= 0):
            messages.append(f"versions[{case_id}]: must be the case's version, a whole number")
    if messages:
        errors["versions"] = messages
        return {}
    return dict(versions)


def _fields_for_each_case(
    session: Session,
    action: str,
    fields: Mapping[str, Any],
    values: Mapping[str, Any],
    actor: Actor,
) -> Mapping[str, Any]:
    """The fields each case is given: "take" is "assign" to the actor; an original
    named by its reference is looked up once here rather than once per case."""
    if action == TAKE:
        return {"assignee_id": actor.id}
    if action == ADD_NOTE:
        return {NOTE_BODY: values[NOTE_BODY]}
    reference = values.get("duplicate_of")
    if action == Action.MARK_DUPLICATE and isinstance(reference, str):
        found = services.DatabaseResolver(session).case(reference)
        if found is not None:
            return {**fields, "duplicate_of": found.id}
    return fields


def _referenced(
    session: Session, action: str, values: Mapping[str, Any], actor: Actor
) -> list[object]:
    """The records the action's fields name (and the actor's account), loaded."""
    wanted: list[tuple[type, Any]] = [(User, actor.id)]
    for spec in field_specs(action):
        if spec.refers_to is not None and spec.name in values:
            model = {"staff": User, "case": Case}.get(spec.refers_to, Organisation)
            wanted.append((model, values[spec.name]))
    return [
        session.get(model, ident)
        for model, ident in wanted
        if isinstance(ident, int) and is_valid_id(ident)
    ]
