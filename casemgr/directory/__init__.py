"""The directory of organisations: partner hotlines, police, hosting providers, registrars."""

from flask import Blueprint

bp = Blueprint("directory", __name__, url_prefix="/directory")
