"""Small benchmark harness for casemgr (standard library only).

Typical use in an app benchmark (run it as ``python bench/my_bench.py`` so that
``bench/`` is on sys.path)::

    from lib import post_form_script, repeat, run_wrk, start_gunicorn

    with start_gunicorn("wsgi:app", env={"DATABASE_URL": url}, chdir=repo) as base_url:
        run_wrk(base_url + "/report", duration=2)            # warm-up, discarded
        stats = repeat(lambda: run_wrk(base_url + "/report", server_pid=base_url.pid))
        print(stats["requests_per_sec"]["median"])

Measure the app beside a bare baseline in the same run and report the ratio
(see ../shared/performance.md and bench/README.md).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from http.cookiejar import CookieJar

LOOPBACK = {"127.0.0.1", "localhost", "::1"}

_tmpdir: str | None = None


def _scratch_dir() -> str:
    """A per-process temporary directory, removed at exit (Lua scripts, logs)."""
    global _tmpdir
    if _tmpdir is None:
        _tmpdir = tempfile.mkdtemp(prefix="casemgr-bench-")
        atexit.register(shutil.rmtree, _tmpdir, ignore_errors=True)
    return _tmpdir


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------- gunicorn


class BaseURL(str):
    """The server's base URL (``http://127.0.0.1:PORT``), a plain str to build on.

    Also carries ``pid`` (the gunicorn master, for :func:`cpu_seconds`) and
    ``log_path`` (gunicorn's error log, for debugging).
    """

    pid: int
    log_path: str


@contextlib.contextmanager
def start_gunicorn(
    app_spec: str,
    env: Mapping[str, str] | None = None,
    workers: int = 2,
    port: int | None = None,
    *,
    chdir: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    ready_path: str = "/",
    timeout: float = 30.0,
) -> Iterator[BaseURL]:
    """Run ``gunicorn app_spec`` on 127.0.0.1 with ``workers`` sync workers.

    ``env`` is added to a copy of os.environ; ``chdir`` is the directory
    gunicorn starts in and imports the app from (its ``gunicorn.conf.py``, if
    any, applies unless ``extra_args`` name another with ``-c``). Access log
    is off, error log goes to a file (``base_url.log_path``). Yields once the server answers
    ``ready_path`` (any HTTP status counts); on exit sends SIGTERM and waits
    for a clean stop (SIGKILL to its own process group after 10 s).

    gunicorn is run with the current interpreter (``sys.executable -m
    gunicorn``), so run benchmarks with the project's venv python.
    """
    port = port or free_port()
    log_path = os.path.join(_scratch_dir(), f"gunicorn-{port}.log")
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "--error-logfile",
        log_path,
        "--graceful-timeout",
        "5",
    ]
    if chdir is not None:
        cmd += ["--chdir", os.fspath(chdir)]
    cmd += [*extra_args, app_spec]
    full_env = {**os.environ, **(env or {})}
    with open(log_path, "ab") as log:
        # gunicorn reads ./gunicorn.conf.py of the directory it starts in
        # unless -c names one: started from the repository's root, the bare
        # baseline would run with casemgr's settings (worker recycling and all).
        proc = subprocess.Popen(
            cmd,
            env=full_env,
            cwd=chdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = BaseURL(f"http://127.0.0.1:{port}")
    url.pid = proc.pid
    url.log_path = log_path
    try:
        _wait_until_up(url + ready_path, proc, timeout, log_path)
        yield url
    finally:
        _stop(proc)


def _tail(path: str, n: int = 30) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float, log_path: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered, with some status: up
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    _stop(proc)
    raise RuntimeError(f"gunicorn did not answer {url} in {timeout} s:\n{_tail(log_path)}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group of the process we started
        proc.wait()


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of ``pid``, its live descendants and every
    descendant that has exited and been waited for (Linux /proc).

    For a gunicorn master this is master + workers, including workers recycled
    during the run (``max_requests``): a worker that exits takes its CPU with
    it from /proc, and the kernel adds it to its parent's ``cutime``/``cstime``
    once the parent waits for it. Counting only live processes made the
    figure fall (even below zero) whenever a worker was recycled. Take the
    difference around a load run and divide by the request count for CPU per
    request.
    """
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (ppid, cpu seconds)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2 :].split()  # after "pid (comm) "
        # utime, stime, cutime, cstime (proc(5) fields 14-17)
        ticks = sum(int(value) for value in fields[11:15])
        stats[int(entry)] = (int(fields[1]), ticks / tick)
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        if p in stats:
            total += stats[p][1]
        todo += [c for c, (ppid, _) in stats.items() if ppid == p]
    return total


# -------------------------------------------------------------------------- wrk

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def parse_wrk(output: str) -> dict:
    """Parse ``wrk --latency`` output into the dict that :func:`run_wrk` returns."""

    def grab(pattern: str, default: str | None = None) -> str:
        m = re.search(pattern, output, re.MULTILINE)
        if m:
            return m.group(1)
        if default is None:
            raise ValueError(f"wrk output lacks {pattern!r}:\n{output}")
        return default

    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "requests_per_sec": float(grab(r"^Requests/sec:\s+([\d.]+)")),
        "latency_p50_ms": _ms(grab(r"^\s+50%\s+(\S+)")),
        "latency_p99_ms": _ms(grab(r"^\s+99%\s+(\S+)")),
        "non2xx": int(grab(r"Non-2xx or 3xx responses: (\d+)", "0")),
        "requests": int(grab(r"^\s+(\d+) requests in")),
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    }


def run_wrk(
    url: str,
    *,
    threads: int = 2,
    connections: int = 16,
    duration: float = 10,
    script: str | None = None,
    server_pid: int | None = None,
) -> dict:
    """Load ``url`` with wrk and return its figures.

    Returns ``requests_per_sec``, ``latency_p50_ms``, ``latency_p99_ms``,
    ``non2xx`` (wrk's "Non-2xx or 3xx responses": a 302 after a POST is a
    success), ``requests`` (total) and ``socket_errors``. With ``server_pid``
    (e.g. ``base_url.pid``) also ``cpu_ms_per_request``: server CPU (master +
    workers) over the run divided by requests; steadier than req/s on a noisy
    machine. ``script`` is a wrk Lua script, e.g. from :func:`post_form_script`.
    ``duration`` is rounded to whole seconds (wrk's unit). Only loopback URLs
    are accepted. For a warm-up, call it once with a short
    ``duration`` and discard the result.
    """
    host = urllib.parse.urlsplit(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"refusing to load {host!r}: benchmarks only target loopback")
    seconds = max(1, round(duration))  # wrk takes whole seconds
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    cpu0 = cpu_seconds(server_pid) if server_pid else 0.0
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    result = parse_wrk(done.stdout)
    if server_pid:
        cpu = cpu_seconds(server_pid) - cpu0
        result["cpu_ms_per_request"] = 1000 * cpu / max(result["requests"], 1)
    return result


def _lua_string(s: str) -> str:
    """A Lua string literal for ``s`` (decimal escapes for anything unusual)."""
    keep = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.%=&+/:;,*")
    return '"' + "".join(chr(b) if chr(b) in keep else f"\\{b:03d}" for b in s.encode()) + '"'


def post_form_script(
    fields: Mapping[str, str],
    *,
    headers: Mapping[str, str] | None = None,
    unique: str = "{n}",
) -> str:
    """Write a wrk Lua script that POSTs ``fields`` url-encoded; return its path.

    Without CSRF: pass just the fields. With a Flask-WTF form, get a token and
    session cookie once with :func:`fetch_csrf` and pass
    ``fields={..., "csrf_token": token}, headers={"Cookie": cookie}`` (a token
    stays valid for many requests). Any ``unique`` marker (``{n}``) inside a
    value is replaced, per request, by a value distinct across threads and
    requests (``<thread>-<count>``), e.g. ``{"url": "http://ex.test/{n}"}``
    to avoid de-duplication.
    """
    hdrs = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    body = urllib.parse.urlencode(dict(fields))
    marker = urllib.parse.quote_plus(unique)
    lines = ['wrk.method = "POST"']
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in hdrs.items()]
    if marker in body:
        parts = " .. id .. ".join(_lua_string(p) for p in body.split(marker))
        lines += [
            "local counter = 1",
            "function setup(thread) thread:set('tid', counter); counter = counter + 1 end",
            "local n = 0",
            "function request()",
            "  n = n + 1",
            "  local id = tostring(tid) .. '-' .. tostring(n)",
            f"  return wrk.format(nil, nil, nil, {parts})",
            "end",
        ]
    else:
        lines.append(f"wrk.body = {_lua_string(body)}")
    fd, path = tempfile.mkstemp(suffix=".lua", dir=_scratch_dir())
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def fetch_csrf(url: str, field: str = "csrf_token") -> tuple[str, str]:
    """GET a form page; return (token from the hidden ``field``, Cookie header)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url, timeout=10) as resp:
        html = resp.read().decode("utf-8", "replace")
    m = re.search(rf'name="{re.escape(field)}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{re.escape(field)}"', html
    )
    if not m:
        raise ValueError(f"no {field!r} input on {url}")
    return m.group(1), "; ".join(f"{c.name}={c.value}" for c in jar)


# ------------------------------------------------------------------ repetition


def _stats(values: list[float]) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": values,
    }


def repeat(fn: Callable[[], float | Mapping[str, float]], runs: int = 3) -> dict:
    """Call ``fn`` ``runs`` times; return ``{median, min, max, runs}``.

    If ``fn`` returns a dict of numbers (e.g. :func:`run_wrk`'s), return one
    such stats dict per key: ``repeat(f)["requests_per_sec"]["median"]``. To
    compare app and baseline, let ``fn`` measure both and return the ratio
    too, so each run's ratio comes from one quiet-or-noisy moment.
    """
    results = [fn() for _ in range(runs)]
    if isinstance(results[0], Mapping):
        return {k: _stats([r[k] for r in results]) for k in results[0]}
    return _stats(list(results))


def _per_call(fn: Callable[[], object], n: int, warmup: int, clock) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        t0 = clock()
        fn()
        times.append((clock() - t0) * 1000)
    return times


def time_calls(fn: Callable[[], object], n: int, *, warmup: int = 1) -> list[float]:
    """Wall time in ms of each of ``n`` calls of ``fn`` (after ``warmup`` calls)."""
    return _per_call(fn, n, warmup, time.perf_counter)


def cpu_calls(fn: Callable[[], object], n: int, *, warmup: int = 0) -> list[float]:
    """CPU time in ms (user + system of this process, ``time.process_time``) of
    each of ``n`` calls of ``fn``: an in-process request's own CPU, with a
    database server's (another process) and any waiting left out."""
    return _per_call(fn, n, warmup, time.process_time)


def peak_memory(fn: Callable[[], object]) -> float:
    """Peak Python heap growth in MiB while ``fn`` runs (tracemalloc).

    Chosen over ru_maxrss because it is in-process, exact and attributable to
    ``fn`` alone (RSS includes the interpreter, imports and allocator slack).
    It does not see memory allocated by C libraries outside Python's allocator
    (e.g. libpq result buffers), and it slows ``fn`` down: never time under it.
    """
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if started:
            tracemalloc.stop()
    return (peak - base) / 2**20


# --------------------------------------------------------------------- report


def fmt_num(v: object) -> str:
    """Numbers the way the tables show them: 3,312 / 4.21 / 0.120."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    if isinstance(v, int) or abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:#.3g}" if abs(v) < 1 else f"{v:.2f}"


def fmt_stats(s: Mapping[str, float]) -> str:
    """``median (min–max)`` of a :func:`repeat` stats dict."""
    return f"{fmt_num(s['median'])} ({fmt_num(s['min'])}–{fmt_num(s['max'])})"


def report_table(rows: Sequence[Mapping[str, object]]) -> str:
    """Print rows (dicts, keys = columns in first-seen order) as a markdown table.

    A value that is a :func:`repeat` stats dict is shown as ``median (min–max)``.
    Returns the table text as well.
    """
    cols: list[str] = []
    for row in rows:
        cols += [k for k in row if k not in cols]

    def cell(v: object) -> str:
        text = fmt_stats(v) if isinstance(v, Mapping) else fmt_num(v)
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in cols) + " |" for r in rows]
    text = "\n".join(lines)
    print(text)
    return text


def print_header(title: str) -> None:
    """Print the title, date, exact command and machine facts above a report."""
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    wrk_version = (wrk.stdout + wrk.stderr).split("[")[0].strip() or "wrk ?"
    print(f"## {title}\n")
    print(f"- date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"- command: `{shlex.join([os.path.relpath(sys.executable), *sys.argv])}`")
    print(
        f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
        f"Python {sys.version.split()[0]}; {wrk_version}\n"
    )
