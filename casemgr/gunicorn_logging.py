"""gunicorn's access log without the reporters in it.

``gunicorn.conf.py`` sets ``logger_class`` to :class:`PrivacyLogger`. For every
path that :func:`casemgr.privacy.logs_client_address` does not name as staff
(the public pages, their static files, unknown paths), the access-log line
loses the client address (``%(h)s``), the user agent (``%(a)s``), the referrer
(``%(f)s``), the remote user, the query string (where the thank-you page's
receipt travels) and every request header, response header and environ
variable a custom ``access_log_format`` might name. Whatever the format
says, those atoms print as ``-``. Staff paths keep the full line.

The error log names the client of a request gunicorn refuses before any app
sees it ("Invalid request from ip=203.0.113.7: Request Line is too large"),
whatever its path: :class:`ClientAddressFilter` blanks that address in every
error-log message.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

from casemgr.privacy import loggable_path, logs_client_address

_PRIVATE_ATOMS = ("h", "a", "f", "u")


def anonymise_atoms(atoms: dict, environ: dict) -> dict:
    """The atoms of an access-log line, made anonymous unless the path is a staff one."""
    path = environ.get("PATH_INFO") or "/"
    if logs_client_address(path):
        return atoms
    clean = {
        key: value
        for key, value in atoms.items()
        if not (key.startswith("{") and key[-2:] in ("}i", "}o", "}e"))
    }
    for key in _PRIVATE_ATOMS:
        clean[key] = "-"
    clean["q"] = ""
    clean["U"] = loggable_path(path)
    clean["r"] = (
        f"{environ.get('REQUEST_METHOD', '-')} {loggable_path(path)} "
        f"{environ.get('SERVER_PROTOCOL', '-')}"
    )
    return clean


# gunicorn's words for the client of a refused request (workers/base.py). An
# IPv6 address has colons but no ": ", which ends the address in the message.
_CLIENT_ADDRESS = re.compile(r"(\bip=)\S*?(?=:\s|\s|$)")


class ClientAddressFilter(logging.Filter):
    """Blank the client's address in gunicorn's error-log messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _CLIENT_ADDRESS.sub(r"\1-", message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class PrivacyLogger(Logger):
    def __init__(self, cfg):
        super().__init__(cfg)
        if not any(isinstance(f, ClientAddressFilter) for f in self.error_log.filters):
            self.error_log.addFilter(ClientAddressFilter())

    def atoms(self, resp, req, environ, request_time):
        return anonymise_atoms(super().atoms(resp, req, environ, request_time), environ)
