"""Operations: what a load balancer or a monitor asks (no sign-in, nothing identifying)."""

from flask import Blueprint

bp = Blueprint("ops", __name__)
