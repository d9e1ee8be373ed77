"""A flood on the public form from one address while other people keep reporting.

    .venv/bin/python bench/public_flood.py [--runs 3] [--flood-seconds 60] [--flood-connections 20]
                                           [--quiet-seconds 30] [--others 12] [--pg-url URL]

The real app under gunicorn with the shipped gunicorn.conf.py (2 sync workers,
its own rate-limit salt), the limiter's counters in Redis (REDIS_URL, default
redis://127.0.0.1:6379/0, under a key prefix of this run's own, deleted after)
and the default limits of config.py, on PostgreSQL (a database ``bench_flood``
made afresh beside --pg-url's, dropped at the end).

Client addresses: as behind nginx, the app trusts one proxy
(``TRUSTED_PROXY_COUNT=1``, werkzeug's ProxyFix) and reads the client from
``X-Forwarded-For``. Every request goes to 127.0.0.1; the header names
documentation addresses (198.51.100.x for the flood, 203.0.113.x for the others).

Each run has two phases:

1. **quiet**: ``--others`` clients, each from an address of its own, submit a
   report (one new URL) every 4 s and open the home page, for --quiet-seconds;
2. **flood**: the same, while one address sends POSTs of the form (valid
   ones, each with a new URL and the session's CSRF token) as fast as the
   server takes them, for --flood-seconds, from --flood-connections at once
   (wrk: its requests cost the shared CPUs far less than a Python client's;
   the aim is at least 10,000 in the minute).

Reported per run: the others' POST /report and GET / latencies (median, p95)
in each phase, whether every one of theirs was answered as usual (303 / 200),
and what the flood got (requests sent, refused ones (429, wrk's "non-2xx"),
accepted ones, the rate reached).
Latencies are measured by this script (Python's http.client, a new
connection per request, as gunicorn's sync workers close each one).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from lib import (
    fetch_csrf,
    post_form_script,
    print_header,
    repeat,
    report_table,
    run_wrk,
    start_gunicorn,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_flood"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
OTHER_INTERVAL = 4.0  # seconds between one client's reports (15 a minute)


def fresh_database(url: str) -> None:
    from public_form import fresh_database as make

    make(url)


def drop_database(url: str) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_env(url: str, prefix: str) -> dict[str, str]:
    """bench/public_form.py's production environment, with the shipped rate
    limits (that benchmark raises them out of reach; this one measures them)."""
    from public_form import app_env as form_env

    env = form_env(url)
    del env["CASEMGR_PUBLIC_REPORT_RATE_LIMIT"], env["CASEMGR_PUBLIC_REPORT_FLOOD_LIMIT"]
    return env | {
        "CASEMGR_RATELIMIT_STORAGE_URI": REDIS_URL,
        "CASEMGR_RATELIMIT_KEY_PREFIX": prefix,
        "CASEMGR_TRUSTED_PROXY_COUNT": "1",
        "CASEMGR_REQUEST_LOG": "false",
    }


class Client:
    """One browser: its session's CSRF token and cookie, its address (X-Forwarded-For)."""

    def __init__(self, base: str, address: str):
        self.host, self.port = urllib.parse.urlsplit(base)[1].split(":")
        self.address = address
        self.token, self.cookie = fetch_csrf(base + "/report")

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, float]:
        headers = {"X-Forwarded-For": self.address, "Cookie": self.cookie}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            connection.close()
        return status, (time.perf_counter() - started) * 1000

    def report(self, url: str) -> tuple[int, float]:
        body = urllib.parse.urlencode(
            {"csrf_token": self.token, "urls": url, "seen_where": "website"}
        )
        return self.request("POST", "/report", body)


def others_loop(clients, seconds: float, posts: list, gets: list, stop: threading.Event):
    def one(client: Client, number: int) -> None:
        deadline = time.monotonic() + seconds
        time.sleep(random.uniform(0, OTHER_INTERVAL))  # noqa: S311 - spread the starts
        n = 0
        while time.monotonic() < deadline and not stop.is_set():
            began = time.monotonic()
            posts.append(
                client.report(f"http://other-{number}-{n}-{secrets.token_hex(4)}.example/")
            )
            gets.append(client.request("GET", "/"))
            n += 1
            time.sleep(max(0.0, OTHER_INTERVAL - (time.monotonic() - began)))

    threads = [threading.Thread(target=one, args=(c, i)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    return threads


def flood(base: str, client: Client, run: int, seconds: float, connections: int) -> dict:
    script = post_form_script(
        {"csrf_token": client.token, "urls": f"http://flood-{run}-{{n}}.example/"},
        headers={"Cookie": client.cookie, "X-Forwarded-For": client.address},
    )
    return run_wrk(
        base + "/report", threads=2, connections=connections, duration=seconds, script=script
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(samples: list[tuple[int, float]], expected: int) -> dict:
    latencies = [ms for _, ms in samples]
    return {
        "n": len(samples),
        "median": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "unexpected": sum(1 for status, _ in samples if status != expected),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--flood-connections", type=int, default=20)
    parser.add_argument("--flood-seconds", type=float, default=60)
    parser.add_argument("--quiet-seconds", type=float, default=30)
    parser.add_argument("--others", type=int, default=12)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    args = parser.parse_args()

    print_header("Public form: a flood from one address while others report")
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    prefix = f"bench-flood-{secrets.token_hex(6)}"
    fresh_database(args.pg_url)
    run_number = iter(range(1, args.runs + 1))
    flood_results: list[dict] = []
    try:
        with start_gunicorn(
            "wsgi:app",
            env=app_env(args.pg_url, prefix),
            chdir=ROOT,
            extra_args=["-c", str(ROOT / "gunicorn.conf.py")],
            ready_path="/report",
        ) as base:

            def one_run() -> dict:
                run = next(run_number)
                # New addresses each run: the hourly windows start empty.
                others = [Client(base, f"203.0.113.{run * 40 + i}") for i in range(args.others)]
                flooder = Client(base, f"198.51.100.{run}")
                stop = threading.Event()
                quiet_posts: list = []
                quiet_gets: list = []
                for thread in others_loop(
                    others, args.quiet_seconds, quiet_posts, quiet_gets, stop
                ):
                    thread.join()
                flood_posts: list = []
                flood_gets: list = []
                threads = others_loop(others, args.flood_seconds, flood_posts, flood_gets, stop)
                flooded = flood(base, flooder, run, args.flood_seconds, args.flood_connections)
                stop.set()
                for thread in threads:
                    thread.join()
                quiet_post, busy_post = summary(quiet_posts, 303), summary(flood_posts, 303)
                quiet_get, busy_get = summary(quiet_gets, 200), summary(flood_gets, 200)
                sent, refused = flooded["requests"], flooded["non2xx"]
                flood_results.append(
                    {
                        "run": run,
                        "sent": sent,
                        "refused (429)": refused,
                        "accepted (303)": sent - refused,
                        "socket errors": flooded["socket_errors"],
                        "flood p50 ms": flooded["latency_p50_ms"],
                    }
                )
                return {
                    "others POST median ms, quiet": quiet_post["median"],
                    "others POST median ms, flood": busy_post["median"],
                    "others POST p95 ms, quiet": quiet_post["p95"],
                    "others POST p95 ms, flood": busy_post["p95"],
                    "others GET / median ms, quiet": quiet_get["median"],
                    "others GET / median ms, flood": busy_get["median"],
                    "others GET / p95 ms, quiet": quiet_get["p95"],
                    "others GET / p95 ms, flood": busy_get["p95"],
                    "others' requests, flood phase": busy_post["n"] + busy_get["n"],
                    "others not answered as usual": quiet_post["unexpected"]
                    + busy_post["unexpected"]
                    + quiet_get["unexpected"]
                    + busy_get["unexpected"],
                    "flood POSTs sent": sent,
                    "flood POSTs/s reached": flooded["requests_per_sec"],
                    "flood accepted (303)": sent - refused,
                    "flood refused (429)": refused,
                }

            stats = repeat(one_run, runs=args.runs)
    finally:
        for key in store.scan_iter(match=f"*{prefix}*"):
            store.delete(key)
        store.close()
        drop_database(args.pg_url)

    print(f"\nmedian (min–max) of {args.runs} runs:\n")
    report_table([{"measure": name, "value": value} for name, value in stats.items()])
    print("\nthe flood per run:\n")
    report_table(flood_results)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    failed = stats["others not answered as usual"]["max"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
