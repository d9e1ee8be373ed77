"""The parts of the case page that take some working out: the action forms
with their defaults and required marks, the one-click take, the error summary,
what the reporter said, and the messages after an action.

Used by the case page's views (views.py); nothing here changes a case. Which
actions are open is the workflow's (``allowed_actions``); which one comes
next is :mod:`casemgr.cases.next_step`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from casemgr import context
from casemgr.cases.forms import (
    build_action_form,
    required_when,
    requirement,
    restored_action_form,
)
from casemgr.cases.labels import label
from casemgr.cases.models import Case, Submission
from casemgr.cases.page_state import FORM, FailedAction
from casemgr.cases.states import Action, Status
from casemgr.cases.workflow import RULES
from casemgr.directory import routing, tracing
from casemgr.directory.queries import routing_candidates
from casemgr.errors import InvalidTransition, PermissionDenied, StaleVersion

# The fields a directory match can fill in.
_TRACED_FIELDS = frozenset({"provider_id", "hosting_country", "hosting_ip"})


def defaults(
    session: Session,
    case: Case,
    trace: tracing.TraceResult | None,
    allowed: Sequence[str],
    prefill: Mapping[str, str],
) -> dict[str, str]:
    """Values the action forms start with, by field name, most trusted last:
    a provider whose domain in the directory covers the host, what the case
    already holds, the analyst's trace, the page's query string."""
    asked = {spec.name for action in allowed for spec in RULES[Action(action)].fields}
    known: dict[str, str] = {}
    if trace is None and case.provider_id is None and asked & _TRACED_FIELDS:
        match = tracing.match_domain(session, case.host)  # the directory only: no look-up
        if match is not None:
            known["provider_id"] = str(match.organisation.id)
            if match.organisation.country:
                known["hosting_country"] = match.organisation.country
    for name in ("hosting_country", "hosting_ip", "provider_id"):
        value = getattr(case, name)
        if value:
            known[name] = str(value)
    if trace is not None:
        known.update(trace.prefill())
    known.update(prefill)
    return known


def suggestion(session: Session, case: Case, allowed: Sequence[str], values: Mapping[str, str]):
    """The routing suggestion for ``case`` (None if there is none), with the
    provider ``values`` name (a directory match, a trace) when the case has none."""
    hinted = values.get("provider_id", "")
    provider_id = int(hinted) if hinted.isdecimal() and int(hinted) < 2**31 else case.provider_id
    return routing.suggest(
        routing.CaseSituation(
            status=case.status,
            hosting_country=case.hosting_country,
            allowed_actions=list(allowed),
            provider_id=provider_id,
        ),
        routing_candidates(session, provider_id=provider_id),
        routing.Policy(
            hotline_country=context.setting("HOTLINE_COUNTRY"),
            police_first_in_own_country=context.setting("POLICE_FIRST_IN_OWN_COUNTRY"),
            international_police_id=context.setting("INTERNATIONAL_POLICE_ID"),
        ),
    )


def action_forms(
    case: Case,
    actions: Sequence[str],
    options: dict[str, list[tuple[str, str]]],
    values: Mapping[str, str],
    suggestion,
    failed: FailedAction | None,
) -> list[FlaskForm]:
    """A form per action, in the order given: the failed one as it was typed,
    the others with ``values`` (and the suggested organisation) filled in."""
    forms = []
    for action in actions:
        rule = RULES[Action(action)]
        if failed is not None and failed.action == action:
            form = restored_action_form(rule, options, failed.values, failed.errors, form_key=FORM)
        else:
            form = build_action_form(rule, options)
            start = dict(values)
            if suggestion and suggestion.action == action and suggestion.organisation_id:
                start.setdefault(suggestion.field, str(suggestion.organisation_id))
            for spec in rule.fields:
                if spec.name in start:
                    form[spec.name].data = start[spec.name]
            if rule.action is Action.CONFIRM_TAKEDOWN and case.removal_reported_at:
                # What the provider or the removal check reported, for the analyst to verify.
                form["removed_at"].data = case.removal_reported_at
        form.version.data = case.version
        form.marks = {spec.name: requirement(spec) for spec in rule.fields}
        form.conditions = {spec.name: required_when(spec) for spec in rule.fields}
        forms.append(form)
    return forms


@dataclass(frozen=True)
class TakeOffer:
    """The one-click take: assign the case to the signed-in user."""

    assignee_id: int
    text: str


def take_offer(case: Case, allowed: Sequence[str], user_id: int) -> TakeOffer | None:
    """A Take button where the workflow allows assigning and the case is not the user's yet."""
    if Action.ASSIGN not in allowed or case.assignee_id == user_id:
        return None
    if case.assignee is None:
        return TakeOffer(user_id, _("Take"))
    return TakeOffer(user_id, _("Take over from %(name)s", name=case.assignee.name))


@dataclass(frozen=True)
class SummaryLine:
    target: str | None  # the id of the field, None for an error about the whole form
    field: str
    message: str


def error_summary(forms: Sequence[FlaskForm]) -> list[SummaryLine]:
    """Every error on the page's forms, linking to its field."""
    lines = []
    for form in forms:
        for message in form.form_errors:
            lines.append(SummaryLine(None, label(form.rule.action, "action"), message))
        for spec in form.rule.fields:
            for message in form[spec.name].errors:
                lines.append(SummaryLine(form[spec.name].id, form[spec.name].label.text, message))
    return lines


@dataclass(frozen=True)
class ReporterFacts:
    source: str
    seen_where: str
    language: str
    feedback_requested: bool


def reporter_facts(submission: Submission) -> ReporterFacts:
    """What the reporter told about the report, in words (never the contact)."""
    return ReporterFacts(
        source=label(submission.source, "source"),
        seen_where=label(submission.seen_where, "seen_where"),
        language=language_name(submission.language),
        feedback_requested=submission.feedback_requested,
    )


def language_name(code: str | None) -> str:
    """``km`` as "Khmer" (in the page's language); an unknown code as itself."""
    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(get_locale() or "en")
    except (UnknownLocaleError, ValueError, TypeError):
        return code
    return name or code


# What an action did, in the past tense, for the message after it.
_DONE = {
    Action.ASSIGN: lambda: _("Assigned"),
    Action.ASSESS: lambda: _("Assessed"),
    Action.MARK_DUPLICATE: lambda: _("Marked as duplicate"),
    Action.CLOSE_UNAVAILABLE: lambda: _("Closed as unavailable"),
    Action.REQUEST_NOTICE: lambda: _("Notice requested"),
    Action.FORWARD_TO_PARTNER: lambda: _("Forwarded to the partner hotline"),
    Action.REFER_TO_POLICE: lambda: _("Referred to police"),
    Action.RELEASE_HOLD: lambda: _("Police hold released"),
    Action.CONFIRM_TAKEDOWN: lambda: _("Takedown confirmed"),
    Action.REOPEN: lambda: _("Reopened"),
}


def state_words(case: Case) -> str:
    """The case's state in words, with how it ended if it is closed."""
    if case.status == Status.CLOSED and case.resolution:
        return _(
            "%(status)s (%(resolution)s)",
            status=label(case.status, "status"),
            resolution=label(case.resolution, "resolution"),
        )
    return label(case.status, "status")


def done_message(action: str, case: Case, user_id: int) -> str:
    """E.g. "Assessed: the case is now Action required." """
    if action == Action.ASSIGN and case.assignee_id == user_id:
        done = _("Taken")
    elif action == Action.ASSIGN and case.assignee is not None:
        done = _("Assigned to %(name)s", name=case.assignee.name)
    else:
        done = _DONE[Action(action)]() if action in _DONE else label(action, "action")
    return _("%(done)s: the case is now %(state)s.", done=done, state=state_words(case))


def stale_message(exc: StaleVersion) -> str:
    who = exc.changed_by or _("someone else")
    return _(
        "Not done: the case was changed by %(name)s since you opened it. Here it is as it "
        "is now; what you typed is kept below: check it and try again.",
        name=who,
    )


def refusal_message(exc: InvalidTransition | PermissionDenied) -> str:
    if isinstance(exc, InvalidTransition):
        possible = ", ".join(label(a, "action") for a in exc.allowed_actions)
        return _(
            "%(action)s is not possible while the case is %(status)s. Possible now: %(possible)s.",
            action=label(exc.action, "action"),
            status=label(exc.status, "status"),
            possible=possible or _("nothing"),
        )
    return _("Not done: %(reason)s.", reason=str(exc))
