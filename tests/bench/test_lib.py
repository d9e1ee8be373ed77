"""bench/lib.py measures what it says: the server CPU behind every "CPU ms/req"."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from lib import cpu_calls, cpu_seconds  # noqa: E402

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

# A parent that, when told, runs a child which burns CPU and exits (the parent
# waits for it, as a gunicorn master does for a recycled worker), starts a
# second child that burns CPU and stays alive, burns some itself, then prints
# the CPU the kernel charged to it and its children by its own account.
BUSY_TREE = textwrap.dedent(
    """
    import os, resource, sys, time

    def burn(seconds):
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass

    def used():
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    print("ready", flush=True)
    sys.stdin.readline()
    start = used()
    recycled = os.fork()
    if recycled == 0:
        burn(0.4)
        os._exit(0)
    os.waitpid(recycled, 0)
    read_end, write_end = os.pipe()
    alive = os.fork()
    if alive == 0:
        burn(0.3)
        os.write(write_end, str(time.process_time()).encode())
        time.sleep(60)
        os._exit(0)
    alive_cpu = float(os.read(read_end, 64))
    burn(0.2)
    print(used() - start + alive_cpu, flush=True)
    sys.stdin.readline()
    os.kill(alive, 9)
    """
)


def test_cpu_seconds_counts_live_and_exited_descendants():
    with subprocess.Popen(
        [sys.executable, "-c", BUSY_TREE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout.readline().strip() == "ready"
        before = cpu_seconds(proc.pid)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        expected = float(proc.stdout.readline())
        measured = cpu_seconds(proc.pid) - before
        proc.stdin.write("end\n")
        proc.stdin.flush()
    # The loops burn 0.9 s in all; /proc counts in clock ticks (10 ms), and
    # the parent spends a little on forking and printing after its own count.
    assert expected >= 0.85
    assert measured == pytest.approx(expected, abs=0.1)


def test_cpu_seconds_of_a_process_that_is_gone_is_zero():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert cpu_seconds(proc.pid) == 0.0


def test_cpu_calls_count_work_and_not_waiting():
    def burn():
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass

    busy = cpu_calls(burn, 3)
    idle = cpu_calls(lambda: time.sleep(0.02), 3)
    assert len(busy) == len(idle) == 3
    assert all(19 <= ms < 200 for ms in busy)
    assert all(ms < 10 for ms in idle)
