"""Security headers (core/web/security.py) as the gateway sends them; the API docs off in
production. The app is built but not started: pages need no database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from core.settings import Settings
from ventanilla.app import create_app

STAFF_PAGES = ["/consola", "/supervision", "/supervision/reporte", "/editores", "/evaluaciones"]


def client(**settings: object) -> TestClient:
    return TestClient(create_app(Settings(_env_file=None, **settings)))


def test_staff_pages_may_not_be_framed_nor_load_anything_foreign() -> None:
    http = client()
    for path in STAFF_PAGES:
        response = http.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_every_answer_is_nosniff_and_the_web_chat_page_keeps_its_inline_styles() -> None:
    http = client()
    for path in ("/", "/static/staff.js", "/api/channels", "/webchat/widget.js"):
        response = http.get(path)
        assert response.status_code == 200, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    assert "content-security-policy" not in http.get("/").headers
    assert http.get("/docs").status_code == 200  # development


def test_production_hides_the_api_docs() -> None:
    http = client(
        environment="production", api_key="s3cret", allowed_origins=["https://www.imss.gob.mx"]
    )
    assert [http.get(p).status_code for p in ("/docs", "/redoc", "/openapi.json")] == [404] * 3
