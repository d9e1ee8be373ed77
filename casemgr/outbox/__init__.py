"""The e-mail outbox: letters and reporters' feedback queued, sent over SMTP, retried."""

from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/outbox")
