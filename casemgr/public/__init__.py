"""The public pages: the home page and the anonymous report form."""

from flask import Blueprint

bp = Blueprint("public", __name__)
