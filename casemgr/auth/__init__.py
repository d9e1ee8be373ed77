"""Staff accounts: sign-in, roles, account administration, API tokens."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
