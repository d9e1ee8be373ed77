"""What views and commands take from the running app: the time, the settings."""

from __future__ import annotations

from datetime import datetime, tzinfo

from flask import current_app

from casemgr.clock import Clock
from casemgr.crypto import ContactCipher
from casemgr.responses.links import LinkSettings
from casemgr.settings import ContactViewers, LoginPolicy, Timings


def clock() -> Clock:
    return current_app.extensions["casemgr.clock"]


def now() -> datetime:
    return clock().now()


def timezone() -> tzinfo:
    """The hotline's time zone (HOTLINE_TIMEZONE), checked when the app started."""
    return current_app.extensions["casemgr.timezone"]


def timings() -> Timings:
    return current_app.extensions["casemgr.timings"]


def response_links() -> LinkSettings:
    """Where letters' response links point, and the key behind their tokens."""
    return current_app.extensions["casemgr.response_links"]


def login_policy() -> LoginPolicy:
    return current_app.extensions["casemgr.login_policy"]


def cipher() -> ContactCipher:
    return current_app.extensions["casemgr.cipher"]


def contact_viewers() -> ContactViewers:
    """Who may reveal reporters' contact details (CONTACT_VIEWERS), checked at start."""
    return current_app.extensions["casemgr.contact_viewers"]


def reference_prefix() -> str:
    return current_app.config["CASE_REFERENCE_PREFIX"]


def setting(name: str):
    return current_app.config[name]
