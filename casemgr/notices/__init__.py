"""Letters: notices, referrals, reminders and escalations; supervisors' alerts."""

from flask import Blueprint

bp = Blueprint("notices", __name__, url_prefix="/notices")
