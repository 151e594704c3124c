"""The staff pages as the gateway serves them: one shell, the files each page loads, packaging.

The app is built but not started (no lifespan): pages and static files need no database.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient

from core.settings import PROJECT_ROOT, Settings
from ventanilla.app import create_app

# URL → (title without « — Ventanilla», the header's section)
PAGES = {
    "/consola": ("Consola de agente", "Consola de agente"),
    "/supervision": ("Tablero de supervisión", "Supervisión"),
    "/supervision/transcripciones": ("Transcripciones", "Supervisión"),
    "/supervision/reporte": ("Reporte mensual", "Supervisión"),
    "/editores": ("Artículos — Base de conocimiento", "Base de conocimiento"),
    "/editores/articulo": ("Artículo — Base de conocimiento", "Base de conocimiento"),
    "/editores/sin-respuesta": (
        "Preguntas sin respuesta — Base de conocimiento",
        "Base de conocimiento",
    ),
    "/evaluaciones": ("Evaluaciones COVID-19", "Orientación Médica COVID-19"),
}
# Where each page's own files are served
OWN_ASSETS = {
    "/consola": "/consola/static/",
    "/supervision": "/consola/static/",
    "/editores": "/editores/",
    "/evaluaciones": "/evaluaciones/static/",
}
LOADED = re.compile(r'<(?:script[^>]*\ssrc|link[^>]*\shref)="(/[^"]*)"')
IMPORTED = re.compile(r'\bfrom\s+"([^"]+)"|\bimport\s+"([^"]+)"')


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(_env_file=None, var_dir=tmp_path_factory.mktemp("var"))
    yield TestClient(create_app(settings))


def files_loaded_by(client: TestClient, url: str) -> set[str]:
    """Every file the page at `url` loads: its stylesheets and scripts, and what they import."""
    pending = LOADED.findall(client.get(url).text)
    seen: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code == 200, (url, path)
        if path.endswith(".js"):
            for found in IMPORTED.findall(response.text):
                pending.append(urljoin(path, found[0] or found[1]))
    return seen


@pytest.mark.parametrize("url", PAGES)
def test_every_staff_page_is_the_shell_with_its_own_title_and_body(
    client: TestClient, url: str
) -> None:
    title, section = PAGES[url]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    html = response.text
    assert f"<title>{title} — Ventanilla</title>" in html
    assert html.count('<header class="topbar">') == 1
    assert f"<h1>Ventanilla <small>· {section}</small></h1>" in html
    for block in ('<nav id="staff-nav"', 'id="session"', 'id="login-view"', 'id="app-view"'):
        assert html.count(block) == 1, block
    assert '<link rel="stylesheet" href="/static/staff.css">' in html
    assert "{{" not in html and "{%" not in html


@pytest.mark.parametrize("url", PAGES)
def test_every_file_a_page_loads_is_served_shared_ones_from_static(
    client: TestClient, url: str
) -> None:
    loaded = files_loaded_by(client, url)
    assert {"/static/staff.css", "/static/staff.js"} <= loaded
    own = next(prefix for page, prefix in OWN_ASSETS.items() if url.startswith(page))
    assert all(path.startswith(("/static/", own)) for path in loaded), loaded


def test_the_shared_files_are_served_once_and_templates_not_at_all(client: TestClient) -> None:
    script = client.get("/static/staff.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "export async function startPage" in script.text
    assert client.get("/static/chart.umd.min.js").status_code == 200
    assert client.get("/static/staff.css").headers["content-type"].startswith("text/css")
    for path in (
        "/consola/static/staff.js",  # the old address of the shared helpers
        "/consola/static/console.html",  # templates are rendered, never sent as they are
        "/static/shell.html",
        "/static/..%2Ftemplates%2Fshell.html",
        "/editores/static/..%2F..%2Fhandoff%2Fstatic%2Fconsole.js",
        "/static/missing.js",
    ):
        assert client.get(path).status_code == 404, path


def test_the_channels_names_come_from_the_registry(client: TestClient) -> None:
    assert client.get("/api/channels").json() == {
        "webchat": "Chat web",
        "rest": "API REST",
        "telegram": "Telegram",
        "whatsapp": "WhatsApp",
        "sms": "SMS",
        "messenger": "Messenger",
        "instagram": "Instagram",
    }


def test_package_data_lists_every_file_the_app_reads_that_is_not_python() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    listed: set[Path] = set()
    for package, patterns in config["tool"]["setuptools"]["package-data"].items():
        folder = PROJECT_ROOT.joinpath(*package.split("."))
        for pattern in patterns:
            listed.update(path for path in folder.glob(pattern) if path.is_file())
    needed = {
        path
        for top in (
            "core",
            "connectors",
            "handoff",
            "knowledge_base",
            "triage",
            "appointments",
            "actions",
            "ventanilla",
        )
        for path in (PROJECT_ROOT / top).rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc")
        and "__pycache__" not in path.parts
        and not (path.name == "README.md" and (path.parent / "__init__.py").exists())
    }
    assert needed - listed == set()


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("/editores", "como lo haría el bot."),
        ("/editores/articulo", "lo que no está publicado aún no cuenta"),
    ],
)
def test_both_editor_pages_carry_the_bots_search_preview(
    client: TestClient, path: str, hint: str
) -> None:
    page = client.get(path).text
    for testid in ("preview-input", "preview-submit", "preview-status", "preview-hits"):
        assert page.count(f'data-testid="{testid}"') == 1, testid
    assert "¿Qué respondería el bot?" in page and hint in page


def test_the_article_editor_has_the_short_answer_with_its_counter(client: TestClient) -> None:
    page = client.get("/editores/articulo").text
    assert '<label for="field-short-answer">Respuesta corta</label>' in page
    field = re.search(r'<textarea id="field-short-answer"[^>]*>', page)
    assert field and 'name="short_answer"' in field.group(0)
    described = re.search(r'aria-describedby="([^"]+)"', field.group(0))
    assert described and set(described.group(1).split()) == {
        "field-short-answer-hint",
        "field-short-answer-count",
        "field-short-answer-error",
    }
    assert re.search(r'id="field-short-answer-count"[^>]*>0/300', page)
    assert 'role="status" id="short-answer-announce"' in page
    assert "Obligatoria para enviar a revisión y publicar" in page
    script = client.get("/editores/static/article.js").text
    assert 'short_answer: "field-short-answer"' in script and "SHORT_MAX = 300" in script
