"""The alerts tests raise alerts through the letter jobs (cases queued for a notice)."""

from tests.jobs.conftest import queue  # noqa: F401 - a fixture
