"""The analysts' screens: the queue, the case page, manual entry."""

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")
