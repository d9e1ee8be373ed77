"""JSON API v1: bearer-token access for staff tools and partners."""

from flask import Blueprint

bp = Blueprint("api", __name__)
