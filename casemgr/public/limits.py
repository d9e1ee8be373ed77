"""The public form's abuse limits, made not to block people who share an address.

Most phones in Cambodia reach the internet through carrier-grade NAT, and a
school's or an NGO's whole network through one address: the limits count a
client (a salted hash of its address, casemgr/privacy.py) that may be many
people. So two limits, both on the form's POST (docs/privacy.md says why the
defaults are what they are):

- ``PUBLIC_REPORT_RATE_LIMIT`` counts **accepted** submissions only. A refused
  one (a typo in a URL, a missing field, a stale form) costs nothing, nor does a
  submission whose URLs all have open cases already (they are recorded as
  duplicates and make no new work). Flask-Limiter checks this limit before the
  view runs (``deduct_when``: tested first, counted after the answer) and the
  view says, through :func:`charge`, whether this submission counts. Checked
  before and counted after, it can be passed by the requests of one client
  that are being served at that moment (one per worker): fine for a limit
  meant to slow abuse, not to count exactly.
- ``PUBLIC_REPORT_FLOOD_LIMIT`` counts **every** POST, refused or not, and is
  far higher: it stops a script sending thousands a minute, never a class of
  students making typos. Past it the answer is a short page (the form is not
  drawn again), so that a flood costs the server as little as it can.

The limiter's storage (memory or Redis) holds, per limit and window, a counter
named ``LIMITER/<prefix>/<hash>/public.report:<scope>/<amount>/<multiple>/<unit>``:
the hash of the client, never its address. When a limit is reached Flask-Limiter
logs the same hash (at INFO), never the address.
"""

from __future__ import annotations

from flask import current_app, g

ACCEPTED_SCOPE = "accepted"
FLOOD_SCOPE = "every-post"
_CHARGE = "casemgr_public_report_charged"


def accepted_limit() -> str:
    return current_app.config["PUBLIC_REPORT_RATE_LIMIT"]


def flood_limit() -> str:
    return current_app.config["PUBLIC_REPORT_FLOOD_LIMIT"]


def charge() -> None:
    """Count this request's submission towards the accepted-submissions limit."""
    setattr(g, _CHARGE, True)


def charged(response) -> bool:
    """Flask-Limiter's ``deduct_when``: whether the view said this one counts."""
    return bool(getattr(g, _CHARGE, False))


def is_flood(exc) -> bool:
    """Whether a RateLimitExceeded came from the flood ceiling."""
    return getattr(getattr(exc, "limit", None), "scope", None) == FLOOD_SCOPE


def makes_new_work(case_duplicate_ids) -> bool:
    """Whether a received submission opened at least one case that is not a
    duplicate of an open one (``case_duplicate_ids``: each case's duplicate_of_id)."""
    return any(original is None for original in case_duplicate_ids)
