"""bin/web-and-scheduler (what bin/start-demo ends with): the web server and the
scheduler as two real processes on a temporary database; one Ctrl-C stops
both, and either one ending stops the other."""

from __future__ import annotations

import os
import re
import select as io_select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (its parent has not reaped it yet).
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


class Output:
    """The script's output, read as it comes."""

    def __init__(self, stream):
        self.stream = stream
        self.text = ""

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text)
            if found:
                return found
            ready, _, _ = io_select.select([self.stream], [], [], 0.2)
            if ready:
                line = self.stream.readline()
                if not line:
                    break
                self.text += line
        found = re.search(pattern, self.text)
        if found:
            return found
        raise AssertionError(f"{pattern!r} not seen; output:\n{self.text}")


@pytest.fixture
def started(tmp_path):
    """The script running on a migrated SQLite database of its own, in a new
    process group (as a terminal's foreground job): (process, output, web pid,
    scheduler pid, port)."""
    flask = tmp_path / "flask"
    flask.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m flask "$@"\n')
    flask.chmod(0o755)
    port = _free_port()
    env = {
        **os.environ,
        "FLASK": str(flask),
        "FLASK_APP": "wsgi",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "CASEMGR_ENV": "development",
        "CASEMGR_SCHEDULE": '{"outbox": {"seconds": 1}}',
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [str(flask), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    process = subprocess.Popen(
        [str(ROOT / "bin" / "web-and-scheduler"), str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = Output(process.stdout)
    pids = []
    try:
        found = output.wait_for(r"web server \(pid (\d+)\) and scheduler \(pid (\d+)\)")
        pids = [int(found.group(1)), int(found.group(2))]
        output.wait_for("scheduler started")
        output.wait_for("job outbox as of")
        _wait_until_it_answers(port)
        yield process, output, pids[0], pids[1], port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _wait_until_it_answers(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                assert answer.status == 200
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _ended(process, output) -> str:
    rest, _ = process.communicate(timeout=30)
    return output.text + rest


@pytest.mark.slow
def test_one_ctrl_c_stops_both(started):
    process, output, web, scheduler, port = started
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    text = _ended(process, output)
    assert process.returncode == 0, text
    assert "casemgr: stopping the web server and the scheduler" in text
    assert "scheduler stopped" in text  # its clean stop: the running job finished
    assert not _alive(web) and not _alive(scheduler)
    assert "Traceback" not in text


@pytest.mark.slow
def test_the_web_server_stops_when_the_scheduler_dies(started):
    process, output, web, scheduler, port = started
    os.kill(scheduler, signal.SIGKILL)
    text = _ended(process, output)
    assert process.returncode == 1
    assert "casemgr: the scheduler stopped (exit status 137); stopping the web server too" in text
    assert not _alive(web)


@pytest.mark.slow
def test_the_scheduler_stops_when_the_web_server_dies(started):
    process, output, web, scheduler, port = started
    os.kill(web, signal.SIGKILL)
    text = _ended(process, output)
    assert process.returncode == 1
    assert "casemgr: the web server stopped (exit status 137); stopping the scheduler too" in text
    assert "scheduler stopped" in text
    assert not _alive(scheduler)


@pytest.mark.slow
def test_the_demo_script_ends_with_both_processes():
    script = (ROOT / "bin" / "start-demo").read_text()
    assert script.rstrip().endswith('exec bin/web-and-scheduler "$port"')
    assert "The scheduler runs beside it" in script
