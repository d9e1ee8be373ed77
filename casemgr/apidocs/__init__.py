"""The API reference page: Swagger UI rendering API v1's OpenAPI document.

Swagger UI's files come from the ``flask-swagger-ui`` package (Apache-2.0)
and are served from this origin, under the same Content-Security-Policy as
every page: no third-party load, no inline script (our own starter,
``static/js/api-reference.js``, passes the settings).
"""

from flask import Blueprint

bp = Blueprint("apidocs", __name__)
