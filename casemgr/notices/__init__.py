"""Letters: notices, referrals, reminders and escalations."""

from flask import Blueprint

bp = Blueprint("notices", __name__, url_prefix="/notices")
