"""Cache lifetimes of the public pages' static files.

The Khmer web fonts (static/fonts/*.woff2, built by bin/build-fonts) carry
their edition in their names, so a browser may keep them for a year without
asking again: a reporter on a slow, metered connection downloads them once.
Everything else under /static/ keeps Flask's default (revalidated), since the
stylesheet's name does not change with its content.
"""

from __future__ import annotations

from flask import request

from casemgr.public import bp

FONT_CACHE = "public, max-age=31536000, immutable"


@bp.after_app_request
def cache_fonts(response):
    filename = (request.view_args or {}).get("filename", "")
    if (
        request.endpoint == "static"
        and response.status_code in (200, 304)
        and filename.startswith("fonts/")
        and filename.endswith(".woff2")
    ):
        response.headers["Cache-Control"] = FONT_CACHE
    return response
