"""Where a case should go next: the routing the case page suggests.

Pure Python over plain data (no Flask, no database), so the rule is tested
on its own. The analyst decides; this only puts one allowed action first,
with its organisation chosen. The rule, from the domain brief:

- hosted in the hotline's own country: police first where national practice
  says so (``police_first_in_own_country``), then a notice to the hosting
  provider;
- hosted abroad in a country with a partner hotline: forward to it;
- hosted abroad without one: police, preferably the international channel
  (``international_police_id``, else a police organisation without a
  country), else the national police, who pass it on.

A suggestion is only ever an action that ``allowed_actions`` holds for this
user on this case now; otherwise there is none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from casemgr.cases.states import Action, Status
from casemgr.cases.workflow import ORGANISATION_FIELDS
from casemgr.domain import OrgKind


@dataclass(frozen=True)
class Candidate:
    """An active organisation, as routing needs to know it."""

    id: int
    kind: str
    country: str | None
    name: str


@dataclass(frozen=True)
class CaseSituation:
    status: str
    hosting_country: str | None
    allowed_actions: Sequence[str]
    # The hosting provider known for the case (traced, or chosen before).
    provider_id: int | None = None


@dataclass(frozen=True)
class Policy:
    hotline_country: str
    police_first_in_own_country: bool = True
    international_police_id: int | None = None


@dataclass(frozen=True)
class Suggestion:
    action: str
    organisation_id: int | None
    reason: str

    @property
    def field(self) -> str | None:
        """The action's field that names the organisation."""
        named = ORGANISATION_FIELDS.get(Action(self.action))
        return named[0] if named else None


def suggest(
    case: CaseSituation, candidates: Iterable[Candidate], policy: Policy
) -> Suggestion | None:
    """The suggested next action for ``case``, or None."""
    suggestion = _route(case, list(candidates), policy)
    if suggestion is None or suggestion.action not in case.allowed_actions:
        return None
    return suggestion


def _route(case: CaseSituation, candidates: list[Candidate], policy: Policy) -> Suggestion | None:
    country = case.hosting_country
    if not country:
        return None
    own = policy.hotline_country.upper()
    if country == own:
        if case.status == Status.ACTION_REQUIRED and policy.police_first_in_own_country:
            police = _first(candidates, OrgKind.POLICE, own)
            return Suggestion(
                Action.REFER_TO_POLICE.value,
                police.id if police else None,
                f"Hosted in {own}: national practice is to refer to police first, "
                "then send a notice to the hosting provider."
                + ("" if police else f" The directory has no police unit in {own}."),
            )
        if case.status in (Status.ACTION_REQUIRED, Status.WITH_POLICE):
            provider = _provider(candidates, case.provider_id)
            return Suggestion(
                Action.REQUEST_NOTICE.value,
                provider.id if provider else None,
                f"Hosted in {own}: send a takedown notice to the hosting provider."
                + ("" if provider else " Trace the host, or choose the provider, to fill it in."),
            )
        return None

    if case.status != Status.ACTION_REQUIRED:
        return None
    partners = [
        c for c in _sorted(candidates) if c.kind == OrgKind.HOTLINE and c.country == country
    ]
    if partners:
        others = len(partners) - 1
        return Suggestion(
            Action.FORWARD_TO_PARTNER.value,
            partners[0].id,
            f"Hosted in {country}, where {partners[0].name} is a partner hotline: forward to it."
            + (f" ({others} other partner hotline(s) in {country}.)" if others else ""),
        )
    police = _international_police(candidates, policy)
    if police is None:
        police = _first(candidates, OrgKind.POLICE, own)
    return Suggestion(
        Action.REFER_TO_POLICE.value,
        police.id if police else None,
        f"Hosted in {country}, which has no partner hotline in the directory: refer to police"
        + (f" ({police.name})." if police else "; the directory has no police unit for this."),
    )


def _sorted(candidates: list[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (c.name.casefold(), c.id))


def _first(candidates: list[Candidate], kind: OrgKind, country: str | None) -> Candidate | None:
    for candidate in _sorted(candidates):
        if candidate.kind == kind and candidate.country == country:
            return candidate
    return None


def _provider(candidates: list[Candidate], provider_id: int | None) -> Candidate | None:
    for candidate in candidates:
        if candidate.id == provider_id and candidate.kind == OrgKind.HOSTING_PROVIDER:
            return candidate
    return None


def _international_police(candidates: list[Candidate], policy: Policy) -> Candidate | None:
    if policy.international_police_id is not None:
        for candidate in candidates:
            if candidate.id == policy.international_police_id and candidate.kind == OrgKind.POLICE:
                return candidate
    return _first(candidates, OrgKind.POLICE, None)
