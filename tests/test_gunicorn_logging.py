"""gunicorn's error log without the clients of the requests it refuses
(casemgr/gunicorn_logging.py); the access log is checked in
tests/public/test_anonymity.py."""

from __future__ import annotations

import logging
import re
import socket

from casemgr.gunicorn_logging import ClientAddressFilter
from tests.gunicorn_server import production_env, serving

# Another loopback address than the one gunicorn listens on, so that the
# client's address in the log cannot be mistaken for the server's.
CLIENT = "127.0.0.2"


def filtered(message: str, *args) -> str:
    record = logging.LogRecord("gunicorn.error", logging.WARNING, "", 0, message, args, None)
    assert ClientAddressFilter().filter(record)
    return record.getMessage()


def test_the_filter_blanks_client_addresses_and_keeps_the_rest():
    assert (
        filtered("Invalid request from ip=2001:db8::7: Request Line is too large (9000 > 8190)")
        == "Invalid request from ip=-: Request Line is too large (9000 > 8190)"
    )
    assert filtered("Invalid request from ip=%s: %s", "203.0.113.7", "x") == (
        "Invalid request from ip=-: x"
    )
    assert filtered("Invalid request from ip=::ffff:192.0.2.1") == "Invalid request from ip=-"
    # The server's own address is not a client's.
    assert filtered("Listening at: http://127.0.0.1:8000 (42)") == (
        "Listening at: http://127.0.0.1:8000 (42)"
    )


def send_raw(base: str, data: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.bind((CLIENT, 0))
        sock.settimeout(10)
        sock.connect((host, int(port)))
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_refused_requests_leave_no_client_address_in_the_error_log(tmp_path, database_urls):
    error_log = tmp_path / "error.log"
    env = production_env(database_urls["sqlite"])
    with serving(env, "--workers", "1", "--error-logfile", str(error_log)) as base:
        too_long = send_raw(base, b"GET /report?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        garbled = send_raw(base, b"NOT A REQUEST LINE\r\n\r\n")
    assert too_long.startswith(b"HTTP/1.1 414") and garbled.startswith(b"HTTP/1.1 400")
    log = error_log.read_text()
    assert log.count("Invalid request from ip=-:") == 2, log
    assert re.search(r"ip=-: Request Line is too large \(\d+ > 8190\)", log), log
    assert CLIENT not in log
