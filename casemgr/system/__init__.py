"""The System page: how the scheduled jobs are doing, for supervisors and admins."""

from flask import Blueprint

bp = Blueprint("system", __name__, url_prefix="/system")
