"""Fixtures of the ops tests."""

from tests.ops.backup_helpers import empty_target, on_target, tiny_disk  # noqa: F401
from tests.ops.copy_helpers import copy_source, copy_template, new_database  # noqa: F401
