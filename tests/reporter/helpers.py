"""Reporting on the public form and coming back with the code, as a browser does."""

from __future__ import annotations

import re

from tests.public.helpers import csrf_token

_CODE = re.compile(r'id="receipt-code">([0-9A-Z-]+)<')
_ACCESS = re.compile(r'name="access" type="hidden" value="([^"]+)"')


def report_and_keep_code(client, urls: str = "http://example.com/a", **fields) -> str:
    """Send a report; the code read off the thank-you page."""
    data = {"csrf_token": csrf_token(client), "urls": urls, **fields}
    response = client.post("/report", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    return _CODE.search(thanks).group(1)


def open_status(client, code: str, path: str = "/status"):
    return client.post(path, data={"csrf_token": csrf_token(client, path), "code": code})


def access_of(response) -> str:
    return _ACCESS.search(response.get_data(as_text=True)).group(1)


def add(client, access: str, path: str = "/status/add", **fields):
    data = {"csrf_token": csrf_token(client, "/status"), "access": access, **fields}
    return client.post(path, data=data)
