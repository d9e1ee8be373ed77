"""GET /api/v1/stats: the figures of a period as JSON, for a supervisor's token.

Registers on the API blueprint; the token check is the API's own
``casemgr.api.auth.token_required``, with the role of the web's statistics
pages (supervisors and admins: ``casemgr/stats/views.py``); an analyst's token
gets 403. The per-analyst figures are not served here (they are on the
dashboard only). ``OPENAPI_PATHS`` is this route's part of the API document.
"""

from __future__ import annotations

from flask import jsonify, request

from casemgr import context
from casemgr.api import bp
from casemgr.api.auth import token_required
from casemgr.domain import Role
from casemgr.extensions import db
from casemgr.stats.figures import compute_figures
from casemgr.stats.figures_json import figures_as_dict
from casemgr.stats.openapi import OPENAPI_PATHS
from casemgr.stats.selection import parse_selection

__all__ = ["OPENAPI_PATHS", "figures"]


@bp.route("/stats")
@token_required(Role.SUPERVISOR)
def figures():
    """The figures of ``from``..``to`` (YYYY-MM-DD, both required), optionally
    narrowed by ``country`` and ``provider``; 422 names each bad parameter."""
    now = context.now()
    period, filters = parse_selection(db.session, request.args, today=now.date(), required=True)
    return jsonify(figures_as_dict(compute_figures(db.session, period, filters, now=now)))
