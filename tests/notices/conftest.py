"""The letters tests share the job tests' helpers (cases queued for a notice)."""

from tests.jobs.conftest import queue  # noqa: F401 - a fixture
