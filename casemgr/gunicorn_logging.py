"""gunicorn's access log without the reporters in it.

``gunicorn.conf.py`` sets ``logger_class`` to :class:`PrivacyLogger`. For every
path that :func:`casemgr.privacy.logs_client_address` does not name as staff
(the public pages, their static files, unknown paths), the access-log line
loses the client address (``%(h)s``), the user agent (``%(a)s``), the referrer
(``%(f)s``), the remote user, the query string (where the thank-you page's
receipt travels) and every request header, response header and environ
variable a custom ``access_log_format`` might name. Whatever the format
says, those atoms print as ``-``. Staff paths keep the full line.
"""

from __future__ import annotations

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


class PrivacyLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        return anonymise_atoms(super().atoms(resp, req, environ, request_time), environ)
