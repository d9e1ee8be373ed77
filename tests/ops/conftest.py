"""Fixtures of the ops tests."""

from tests.ops.copy_helpers import copy_source, copy_template, new_database  # noqa: F401
