"""Bulk actions from the queue: one action on many cases, and what became of each.

``POST /cases/bulk`` takes the queue's selection (ticked cases, ticked
groups, or every case matching the queue's filter, at most MAX_BULK_CASES)
and hands it to the bulk service, which takes each case through the
workflow on its own. The outcome is kept in the session, small (the ids,
ok or which message), and shown by ``GET /cases/bulk/result``: post,
redirect, get, so a reload shows the result again and sends nothing.
A request the service refuses as a whole (a field missing, too many cases)
shows the queue again with what was ticked and typed, and the errors.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casemgr import context
from casemgr.auth.access import staff_required
from casemgr.cases import bp, bulk, bulk_forms, bulk_next, queries, queue_args, queue_page
from casemgr.cases.bulk import BULK_ACTIONS, MAX_BULK_CASES, CaseOutcome
from casemgr.cases.models import Case
from casemgr.database import MAX_ID
from casemgr.errors import ValidationFailed
from casemgr.extensions import db

BULK_RESULT = "casemgr.bulk_result"
# The result kept in the session is small whatever happened: at most this
# many distinct messages, each at most MAX_MESSAGE characters; a case refused
# for yet another reason says to open it.
MAX_MESSAGES = 20
MAX_MESSAGE = 300
_CODES = "0123456789abcdefghijklmnopqrstuvwxyz"  # 0: done; n: refused with message n-1


class _Refused(Exception):
    """The request as a whole cannot go ahead: field -> messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors


@bp.route("/bulk", methods=["POST"])
@staff_required
def bulk_action():
    args = queue_args.parse_from(request.form.get("queue")) or queue_args.parse({})
    take_one = request.form.get("take_one")
    action = "take" if take_one else request.form.get("action", "")
    options = bulk_forms.action_options(db.session)
    form = bulk_forms.action_form(action, options, request.form) if action in BULK_ACTIONS else None
    try:
        if action not in BULK_ACTIONS:
            raise _Refused({"action": [_("choose what to do with the selected cases")]})
        ids = _selection(args, take_one)
        if form is not None and not form.validate():
            raise _Refused({})
        outcomes = _apply(action, ids, bulk_forms.field_values(action, form))
    except _Refused as refused:
        db.session.rollback()
        return _show_again(args, action, refused.errors)
    except ValidationFailed as exc:
        db.session.rollback()
        return _show_again(args, action, exc.fields)
    db.session.commit()
    if take_one:
        return _after_take(args, outcomes)
    session[BULK_RESULT] = _summary(action, outcomes, args)
    return redirect(url_for("cases.bulk_result"), code=303)


@bp.route("/bulk/result")
@staff_required
def bulk_result():
    summary = session.get(BULK_RESULT)
    if not summary:
        flash(_("There is no bulk action to show."), "error")
        return redirect(url_for("cases.queue"))
    outcomes = _outcomes(summary)
    ids = [case_id for case_id, _ok, _message in outcomes]
    found = {
        case.id: case
        for case in db.session.scalars(
            select(Case).where(Case.id.in_(ids)).options(selectinload(Case.assignee))
        )
    }
    args = queue_args.parse_from(summary.get("queue")) or queue_args.parse({})
    rows = [(case_id, found.get(case_id), ok, message) for case_id, ok, message in outcomes]
    done_cases = [case for _id, case, ok, _message in rows if ok and case is not None]
    done = sum(1 for _id, _case, ok, _message in rows if ok)
    after = bulk_next.next_for(db.session, done_cases, current_user.actor)
    return render_template(
        "cases/bulk_result.html",
        action=summary["action"],
        action_label=bulk_forms.label(summary["action"]),
        rows=rows,
        done=done,
        refused=len(rows) - done,
        args=args,
        queue_url=url_for("cases.queue", **args.query()),
        bulk=bulk_forms.bar(db.session, action=after.action, values=after.values),
        url_parts=queue_page.url_parts,
        now=context.now(),
    )


def _selection(args: queue_args.QueueArgs, take_one: str | None) -> list[int]:
    """The ids the request names, in the queue's order, without repeats; raises _Refused."""
    if take_one:
        return [_case_id(take_one)]
    if request.form.get("scope") == "matching":
        ids = _matching(args.filters)
    else:
        ids = [_case_id(value) for value in request.form.getlist("case_ids")]
        for key in request.form.getlist("group_keys"):
            ids.extend(_matching(_group_filter(args, request.form.get("group"), key)))
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise _Refused(
            {"case_ids": [_("select at least one case (tick its box), or a group of cases")]}
        )
    if len(ids) > MAX_BULK_CASES:
        raise _Refused({"case_ids": [_too_many()]})
    return ids


def _too_many() -> str:
    return _(
        "more than %(max)s cases are selected; a bulk action takes at most %(max)s at once."
        " Narrow the filter (a state, a host, a country) and try again.",
        max=MAX_BULK_CASES,
    )


def _matching(filters: queries.QueueFilter) -> list[int]:
    ids = queries.matching_ids(
        db.session,
        filters,
        user_id=current_user.id,
        now=context.now(),
        limit=MAX_BULK_CASES + 1,
    )
    if len(ids) > MAX_BULK_CASES:
        raise _Refused({"case_ids": [_too_many()]})
    return ids


def _group_filter(args: queue_args.QueueArgs, group: str | None, key: str) -> queries.QueueFilter:
    """The queue's filter narrowed to one ticked group (a host, a submission)."""
    if group == "host" and 0 < len(key) <= queue_args.MAX_HOST_LENGTH:
        return replace(args.filters, host=key.strip().lower())
    if group == "submission" and key.isdecimal() and 0 < int(key) <= MAX_ID:
        return replace(args.filters, submission_id=int(key))
    raise _Refused({"group_keys": [_("a ticked group is not one of the queue's groups")]})


def _case_id(value: str) -> int:
    text = value.strip()
    if text.isdecimal() and 0 < int(text) <= MAX_ID:
        return int(text)
    raise _Refused({"case_ids": [_("'%(value)s' is not a case id", value=text[:20])]})


def _apply(action: str, ids: list[int], fields: dict[str, Any]) -> list[CaseOutcome]:
    return bulk.apply_to_many(
        db.session,
        action,
        ids,
        fields,
        actor=current_user.actor,
        now=context.now(),
        timings=context.timings(),
    )


def _on_form(form, fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """Put the service's field errors on the form; return those about no field of it."""
    left = {}
    for name, messages in fields.items():
        if form is not None and name in form:
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            left[name] = list(messages)
    return left


def _show_again(args: queue_args.QueueArgs, action: str, errors: dict[str, list[str]]):
    """The queue again, status 422, with what was ticked and typed; field errors
    beside their fields, the others (and a pointer to those) on top of the bar."""
    chosen = action if action in BULK_ACTIONS else None
    bar = bulk_forms.bar(db.session, formdata=request.form, action=chosen)
    left = dict(errors)
    if chosen is not None and chosen in bar.forms:
        bar.forms[chosen].validate()  # shows the fields' own errors again
        left = _on_form(bar.forms[chosen], errors)
    bar.errors = [f"{name}: {' '.join(texts)}" for name, texts in left.items()]
    if len(left) < len(errors) or not errors:
        bar.errors.append(_("Some of what the action needs is missing or wrong: see below."))
    ticked = {int(v) for v in request.form.getlist("case_ids") if v.isdecimal() and len(v) < 12}
    return queue_page.render_queue(
        args,
        status=422,
        bulk=bar,
        selected=frozenset(ticked),
        selected_groups=frozenset(request.form.getlist("group_keys")),
    )


def _after_take(args: queue_args.QueueArgs, outcomes: list[CaseOutcome]):
    outcome = outcomes[0]
    if outcome.ok:
        flash(_("%(reference)s is yours now.", reference=outcome.case.reference), "success")
    else:
        flash(_("Not taken: %(reason)s", reason=str(outcome.error)), "error")
    return redirect(
        url_for("cases.queue", **args.query(), _anchor=f"case-{outcome.case_id}"), code=303
    )


def _summary(
    action: str, outcomes: list[CaseOutcome], args: queue_args.QueueArgs
) -> dict[str, Any]:
    """What the result page needs, small enough for the session cookie: the ids
    in ascending order as differences, one character per case for its outcome,
    and the distinct messages."""
    ordered = sorted(outcomes, key=lambda outcome: outcome.case_id)
    messages: list[str] = []
    codes = []
    for outcome in ordered:
        if outcome.ok:
            codes.append(_CODES[0])
            continue
        message = str(outcome.error)[:MAX_MESSAGE]
        if message not in messages and len(messages) < MAX_MESSAGES:
            messages.append(message)
        index = messages.index(message) + 1 if message in messages else MAX_MESSAGES + 1
        codes.append(_CODES[index])
    ids = [outcome.case_id for outcome in ordered]
    return {
        "action": action,
        "ids": [ids[0], *(b - a for a, b in zip(ids, ids[1:], strict=False))] if ids else [],
        "codes": "".join(codes),
        "messages": messages,
        "queue": args.encoded(),
    }


def _outcomes(summary: dict[str, Any]) -> list[tuple[int, bool, str | None]]:
    ids, total = [], 0
    for step in summary["ids"]:
        total += step
        ids.append(total)
    found = []
    for case_id, code in zip(ids, summary["codes"], strict=False):
        index = _CODES.index(code)
        if index == 0:
            found.append((case_id, True, None))
        elif index <= len(summary["messages"]):
            found.append((case_id, False, summary["messages"][index - 1]))
        else:
            found.append((case_id, False, _("refused: open the case to see why")))
    return found
