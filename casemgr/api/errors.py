"""Refusals the API answers by itself, before any service is called.

Every route on the API blueprint answers an ``ApiError`` as its JSON envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response

from casemgr.api import bp
from casemgr.http import json_error


class ApiError(Exception):
    """An HTTP error in the JSON envelope ``{"error": code, "message": text, ...extra}``.

    Domain errors (ValidationFailed, InvalidTransition, ...) are not wrapped in
    this: ``casemgr/http.py`` answers them for the API as for every page.
    """

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self) -> Response:
        response = json_error(self.status, self.error, self.message, **self.extra)
        response.headers.update(self.headers)
        return response


@bp.errorhandler(ApiError)
def api_error(exc: ApiError) -> Response:
    return exc.response()
