"""The admins' staff screens: staff accounts, their second factor, API tokens.

A blueprint of its own, apart from auth (signing in and the user's own
account): these are the screens of one role, administering other people.
"""

from flask import Blueprint

bp = Blueprint("staff", __name__)
