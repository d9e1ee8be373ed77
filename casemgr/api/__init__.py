"""JSON API v1: bearer-token access for staff tools and partners.

This package is the API's plumbing: the blueprint, token auth (``auth``, which
also exempts the blueprint from CSRF and caching), errors (``errors``), the
shared request readers (``inputs``), schema blocks (``schemas``) and pieces of
operations (``operations``), and the assembled document (``openapi``). Each
feature serves its own resources on this blueprint from its ``api`` module
(``casemgr/cases/api.py``, ``casemgr/directory/api.py``, ...).
"""

from flask import Blueprint

bp = Blueprint("api", __name__)
