"""Supervisors' alerts: escalations, police holds to review, letters that could not go."""

from flask import Blueprint

bp = Blueprint("alerts", __name__, url_prefix="/notices/alerts")
