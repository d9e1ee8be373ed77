"""GET /api-reference: anyone may read it, as anyone may read the document it
shows (GET /api/v1/openapi.json is public); partner hotlines' developers have
no web sign-in. Staff find it in the menu."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Response, render_template, request
from flask_babel import lazy_gettext as _l

from casemgr.apidocs import bp
from casemgr.domain import Role
from casemgr.navigation import register_nav_item

# The package's copy of Swagger UI's distribution; only the two files the page loads.
SWAGGER_UI = Path(flask_swagger_ui.__file__).parent / "dist"
SWAGGER_UI_FILES = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
# A day: the files change only with the package's version, named in the URL.
ASSET_MAX_AGE = 24 * 3600

register_nav_item(_l("API reference"), "apidocs.reference", Role.ANALYST)


def swagger_ui_version() -> str:
    return (SWAGGER_UI / "VERSION").read_text(encoding="ascii").strip().lstrip("v")


@bp.get("/api-reference")
def reference() -> str:
    return render_template("apidocs/reference.html", swagger_ui_version=swagger_ui_version())


@bp.get("/api-reference/swagger-ui.css", defaults={"name": "swagger-ui.css"})
@bp.get("/api-reference/swagger-ui-bundle.js", defaults={"name": "swagger-ui-bundle.js"})
def swagger_ui_file(name: str) -> Response:
    # Read whole (2 MB at most) rather than streamed: no file left open.
    response = Response((SWAGGER_UI / name).read_bytes(), mimetype=SWAGGER_UI_FILES[name])
    response.add_etag()
    # Not a page: nothing in it about anyone, so a cache may keep it.
    response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}"
    return response.make_conditional(request)
