"""What views and commands take from the running app: the time, the settings."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from casemgr.clock import Clock
from casemgr.crypto import ContactCipher
from casemgr.settings import LoginPolicy, Timings


def clock() -> Clock:
    return current_app.extensions["casemgr.clock"]


def now() -> datetime:
    return clock().now()


def timings() -> Timings:
    return current_app.extensions["casemgr.timings"]


def login_policy() -> LoginPolicy:
    return current_app.extensions["casemgr.login_policy"]


def cipher() -> ContactCipher:
    return current_app.extensions["casemgr.cipher"]


def reference_prefix() -> str:
    return current_app.config["CASE_REFERENCE_PREFIX"]


def setting(name: str):
    return current_app.config[name]
