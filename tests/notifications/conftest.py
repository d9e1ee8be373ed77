"""The notifications tests share the job tests' helpers."""

from tests.jobs.conftest import queue  # noqa: F401 - a fixture
