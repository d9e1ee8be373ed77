"""The web's answers that are the same for every feature: the one place that turns
errors into HTTP (JSON under /api, HTML elsewhere), and a stored PDF sent byte for
byte (:func:`stored_pdf_response`)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, render_template, request, send_file
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from casemgr import context, localtime
from casemgr.clock import in_range
from casemgr.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from casemgr.extensions import db
from casemgr.inputs import UnwantedCharacters


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, error: str, message: str, **extra):
    response = jsonify({"error": error, "message": message, **extra})
    response.status_code = status
    return response


DomainError = InvalidTransition | ValidationFailed | PermissionDenied | StaleVersion | NotFound


def error_envelope(exc: DomainError) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body the API answers a domain error with (a
    bulk action's answer gives each refused case this body)."""
    message = str(exc)
    if isinstance(exc, InvalidTransition):
        return 409, {
            "error": "invalid_transition",
            "message": message,
            "allowed_actions": exc.allowed_actions,
        }
    if isinstance(exc, ValidationFailed):
        return 422, {"error": "validation", "message": message, "fields": exc.fields}
    if isinstance(exc, PermissionDenied):
        return 403, {"error": "forbidden", "message": message}
    if isinstance(exc, StaleVersion):
        body = {"error": "stale_version", "message": message}
        if exc.current_version is not None:
            body["version"] = exc.current_version
        return 409, body
    return 404, {"error": "not_found", "message": message}


def _json_envelope(exc: DomainError):
    status, body = error_envelope(exc)
    response = jsonify(body)
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(InvalidTransition)
    def invalid_transition(exc: InvalidTransition):
        if wants_json():
            return _json_envelope(exc)
        return _html(409, str(exc))

    @app.errorhandler(ValidationFailed)
    def validation_failed(exc: ValidationFailed):
        if wants_json():
            return _json_envelope(exc)
        return _html(422, str(exc))

    @app.errorhandler(UnwantedCharacters)
    def unwanted_characters(exc: UnwantedCharacters):
        # Not a form's rule broken but a request no page sends: the browser's
        # 400, naming the field (the API answers it as any validation error).
        if wants_json():
            return _json_envelope(exc)
        return _html(400, str(exc))

    @app.errorhandler(PermissionDenied)
    def permission_denied(exc: PermissionDenied):
        if wants_json():
            return _json_envelope(exc)
        return _html(403, str(exc))

    @app.errorhandler(StaleVersion)
    def stale_version(exc: StaleVersion):
        exc = exc.described()
        if wants_json():
            return _json_envelope(exc)
        return _html(409, str(exc))

    @app.errorhandler(StaleDataError)
    def concurrent_update(exc: StaleDataError):
        # Two requests changed the same case at the same moment: the version
        # check in the UPDATE let only the first one through. The failed flush
        # left the session unusable until it is rolled back.
        db.session.rollback()
        message = "the case was changed by someone else at the same moment; reload it and try again"
        if wants_json():
            return json_error(409, "stale_version", message)
        return _html(409, message)

    @app.errorhandler(Conflict)
    def conflict(exc: Conflict):
        if wants_json():
            return json_error(409, "conflict", str(exc))
        return _html(409, str(exc))

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound):
        if wants_json():
            return _json_envelope(exc)
        return _html(404, str(exc))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        _audit_refusal("security.csrf_refused", reason=exc.description)
        if wants_json():
            return json_error(400, "csrf", exc.description)
        return _html(
            400,
            "Your form expired or was sent from another page. Please submit it again.",
        )

    @app.errorhandler(HTTPException)
    def http_exception(exc: HTTPException):
        code = exc.code or 500
        if wants_json():
            response = json_error(code, _slug(exc.name), exc.description or exc.name)
            if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            return response
        return _html(code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal", "an unexpected error occurred; it has been logged")
        return _html(500, "An unexpected error occurred; it has been logged.")


def _audit_refusal(action: str, **details) -> None:
    """Record a refused request that may be an attack; never fails the answer."""
    from flask_login import current_user

    from casemgr import context
    from casemgr.audit.services import record

    try:
        db.session.rollback()
        user_id = current_user.id if current_user.is_authenticated else None
        record(
            db.session,
            action=action,
            now=context.now(),
            actor_id=user_id,
            details={"method": request.method, "endpoint": request.endpoint, **details},
        )
        db.session.commit()
    except Exception:  # noqa: BLE001 - the refusal is answered even if the log is down
        db.session.rollback()
        current_app.logger.exception("could not audit %s", action)


def _slug(name: str) -> str:
    return name.lower().replace(" ", "_").replace("'", "")


def _html(status: int, message: str):
    return render_template("errors/error.html", status=status, message=message), status


def stored_pdf_response(
    data: bytes, *, filename: str, sha256: str, created_at: datetime
) -> Response:
    """A PDF kept in the database, byte for byte, as a private attachment.

    The ETag is the stored SHA-256, so what was downloaded can be matched to
    what was stored (letters, monthly reports).
    """
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=filename,
        etag=sha256,
        last_modified=created_at,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def safe_next_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: a ``next`` given by a
    request never makes an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or not target.isprintable()
    ):
        return None
    return target


MAX_PAGE = 10**6


def page_arg() -> int:
    """The list page asked for in ``?page=``: 1 when missing or not a number,
    at most MAX_PAGE (a page past the end is simply empty)."""
    value = request.args.get("page", "")
    return min(max(int(value), 1), MAX_PAGE) if value.isdecimal() else 1


def day_start_arg(name: str, *, days_after: int = 0) -> datetime | None:
    """The start (aware UTC) of the day given in ``?name=YYYY-MM-DD``, a day in
    HOTLINE_TIMEZONE, or of the day ``days_after`` it (1: the end of a period
    that includes the day given). None for anything else, and for a day outside
    clock.FIRST_YEAR..LAST_YEAR: a filter left out, never an error."""
    try:
        day = datetime.strptime(request.args.get(name, "").strip(), "%Y-%m-%d").date()
        if not in_range(day):
            return None
        return localtime.day_start(day + timedelta(days=days_after), context.timezone())
    except (ValueError, OverflowError):
        return None
