"""Bare Flask baseline: the least an HTTP request and a one-row INSERT can cost.

    GET  /hello   -> "hello"
    POST /submit  -> parses form fields ``url`` and ``comment``, inserts one row
                     into ``$BASELINE_TABLE`` (default
                     ``bench_submission``), returns 201 "ok"

Database, one of (the table must exist; bench/baselines.py creates it):
    BASELINE_SQLITE=/path/file.db          sqlite3, WAL, synchronous=NORMAL
    BASELINE_DATABASE_URL=postgresql://... psycopg, autocommit

One connection per worker process, opened on first use.
Run: gunicorn --chdir bench/baseline -w 2 -k sync app:app
"""

import os
import sqlite3

from flask import Flask, request

app = Flask(__name__)

_conn = None
_conn_pid = None


def connection():
    global _conn, _conn_pid
    if _conn is None or _conn_pid != os.getpid():
        if os.environ.get("BASELINE_SQLITE"):
            _conn = sqlite3.connect(os.environ["BASELINE_SQLITE"], isolation_level=None, timeout=10)
            _conn.execute("PRAGMA journal_mode=WAL")
            _conn.execute("PRAGMA synchronous=NORMAL")
        else:
            import psycopg

            _conn = psycopg.connect(os.environ["BASELINE_DATABASE_URL"], autocommit=True)
        _conn_pid = os.getpid()
    return _conn


PARAM = "?" if os.environ.get("BASELINE_SQLITE") else "%s"
TABLE = os.environ.get("BASELINE_TABLE", "bench_submission")
INSERT = f"INSERT INTO {TABLE} (url, comment) VALUES ({PARAM}, {PARAM})"


@app.get("/hello")
def hello():
    return "hello"


@app.post("/submit")
def submit():
    url = request.form["url"]
    comment = request.form.get("comment", "")
    connection().execute(INSERT, (url, comment))
    return "ok", 201
