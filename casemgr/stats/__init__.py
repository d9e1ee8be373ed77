"""Statistics: the figures hotlines publish, a dashboard, a monthly PDF, exports."""

from flask import Blueprint

bp = Blueprint("stats", __name__, url_prefix="/stats")
