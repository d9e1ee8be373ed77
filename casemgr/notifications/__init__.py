"""In-app notifications for staff: assigned to you, overdue, escalation, delivery failure."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
