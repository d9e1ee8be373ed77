"""The audit log: hash-chained records of security-relevant events, and its admin screen."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
