"""The reporter's side after a report: the receipt code, /status, additions,
the hotline's questions and the reporter's answers (issue 15)."""

from flask import Blueprint

bp = Blueprint("reporter", __name__)
