"""The API reference page: open to anyone (as the document it shows), in the
staff menu, under the Content-Security-Policy every page has; Swagger UI's
files served from here, and no other file of the package."""

from __future__ import annotations

from tests.conftest import login


def test_anyone_may_read_the_reference_under_the_usual_policy(app, client):
    response = client.get("/api-reference")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == app.config["CONTENT_SECURITY_POLICY"]
    page = response.get_data(as_text=True)
    assert 'data-document="/api/v1/openapi.json"' in page
    assert "<script>" not in page and "style=" not in page
    assert "/api-reference/swagger-ui-bundle.js?v=" in page


def test_swagger_ui_is_served_from_this_origin_and_nothing_else_of_the_package(client):
    script = client.get("/api-reference/swagger-ui-bundle.js")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.data
    assert script.headers["Cache-Control"] == "public, max-age=86400"
    style = client.get("/api-reference/swagger-ui.css")
    assert style.status_code == 200 and style.content_type == "text/css; charset=utf-8"
    again = client.get(
        "/api-reference/swagger-ui.css", headers={"If-None-Match": style.headers["ETag"]}
    )
    assert again.status_code == 304
    for other in ("index.css", "oauth2-redirect.html", "../__init__.py", "VERSION"):
        assert client.get(f"/api-reference/{other}").status_code == 404, other


def test_the_staff_menu_links_it(client, make):
    assert 'href="/api-reference"' not in client.get("/api-reference").get_data(as_text=True)
    login(client, make.user("analyst"))
    assert 'href="/api-reference"' in client.get("/cases/").get_data(as_text=True)
