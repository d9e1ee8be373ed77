"""A wrong receipt code and a right one take the same time (issue 15).

    .venv/bin/python bench/status_timing.py [--runs 3] [--calls 15]

What is measured, in-process through the Flask test client on a fresh SQLite
database (migrated), with the shipped scrypt cost (RECEIPT_SCRYPT; the figures
in bench/README.md were taken at OWASP's N=2^13, r=8, p=10, five times
today's N=2^14, r=8, p=1) and rate limits off:

- ``POST /status`` with the right code, with a wrong code whose selector
  exists (a real first group, wrong verifier), and with a code that never
  existed; interleaved, ``--calls`` of each per run; wall ms and CPU ms
  (process time: it holds up when other work shares the machine) per request;
- the CPU the receipt adds to a public submission: one ``hash_verifier``
  (process time), beside the CPU of a whole ``POST /report`` with it.

Each run gives the median of its calls; the table shows the median and the
spread (min–max) of the runs, and the load average before and after. Tests
never assert timings: this is where "the same time" is shown.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lib import repeat, report_table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _app(folder: str):
    from flask_migrate import upgrade

    from casemgr import create_app
    from casemgr.reporter.codes import ScryptParams

    params = ScryptParams()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "RECEIPT_SCRYPT": (params.n, params.r, params.p),
        }
    )
    with app.app_context():
        upgrade()
    return app


def _report(client) -> str:
    response = client.post("/report", data={"urls": f"http://example.com/{time.time_ns()}"})
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    return re.search(r'id="receipt-code">([0-9A-Z-]+)<', thanks).group(1)


def one_run(app, calls: int) -> dict[str, float]:
    from casemgr.reporter import codes

    client = app.test_client()
    code = _report(client)
    for _ in range(5):
        _report(client)  # a few other receipts in the table
    swap = "1" if code[-1] != "1" else "2"
    wrong = code[:-1] + swap  # same selector, wrong verifier
    never = ("ZZZZ" if not code.startswith("ZZZZ") else "YYYY") + code[4:]
    kinds = {"right": code, "wrong": wrong, "never": never}
    expected = {"right": 200, "wrong": 404, "never": 404}
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
    for typed in kinds.values():  # warm-up
        client.post("/status", data={"code": typed})
    for _ in range(calls):
        for kind, typed in kinds.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.post("/status", data={"code": typed})
            times[kind].append((time.perf_counter() - started) * 1000)
            cpu[kind].append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == expected[kind], (kind, response.status_code)

    hash_cpu, report_cpu = [], []
    params = codes.ScryptParams()
    for _ in range(calls):
        started = time.process_time()
        codes.hash_verifier("0" * 16, params)
        hash_cpu.append((time.process_time() - started) * 1000)
        started = time.process_time()
        _report(client)
        report_cpu.append((time.process_time() - started) * 1000)
    right, wrong_ms, never_ms = (statistics.median(times[k]) for k in kinds)
    right_cpu, wrong_cpu, never_cpu = (statistics.median(cpu[k]) for k in kinds)
    return {
        "right code CPU ms": right_cpu,
        "wrong code CPU ms": wrong_cpu,
        "never-issued code CPU ms": never_cpu,
        "wrong/right CPU": wrong_cpu / right_cpu,
        "never/right CPU": never_cpu / right_cpu,
        "right code ms": right,
        "wrong code ms": wrong_ms,
        "never-issued code ms": never_ms,
        "wrong/right": wrong_ms / right,
        "never/right": never_ms / right,
        "scrypt CPU ms/submission": statistics.median(hash_cpu),
        "POST /report + thanks CPU ms": statistics.median(report_cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=15)
    args = parser.parse_args()
    print("## /status: a wrong code against a right one\n")
    print(f"- command: `python bench/status_timing.py --runs {args.runs} --calls {args.calls}`")
    print(f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start\n")
    with tempfile.TemporaryDirectory() as folder:
        app = _app(folder)
        stats = repeat(lambda: one_run(app, args.calls), runs=args.runs)
    report_table([{"measure": name, "median (min–max) of runs": s} for name, s in stats.items()])
    print(f"\n- load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
