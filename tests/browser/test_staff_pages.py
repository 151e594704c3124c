"""Every staff page in a real browser: the shared shell (header, navigation, session) around the
page's own title and body, with the shared files from /static/ and nothing failing in the console.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import UI_TIMEOUT_MS, expect, sign_in
from tests.utils.staff import create_user
from ventanilla.launcher import RunningSystem

pytestmark = pytest.mark.browser

# URL, title (before « — Ventanilla») once the page has started, section in the header, id of a
# heading of the page's body
PAGES = [
    ("/consola", "Consola de agente", "Consola de agente", "mine-title"),
    ("/supervision", "Tablero de supervisión", "Supervisión", "dash-title"),
    ("/supervision/transcripciones", "Transcripciones", "Supervisión", "transcripts-title"),
    ("/supervision/reporte", "Reporte mensual", "Supervisión", "report-title"),
    ("/editores", "Artículos — Base de conocimiento", "Base de conocimiento", "articles-title"),
    (
        "/editores/articulo",
        "Nuevo artículo — Base de conocimiento",  # article.js names the article it shows
        "Base de conocimiento",
        "article-heading",
    ),
    (
        "/editores/sin-respuesta",
        "Preguntas sin respuesta — Base de conocimiento",
        "Base de conocimiento",
        "unanswered-title",
    ),
    ("/evaluaciones", "Evaluaciones COVID-19", "Orientación Médica COVID-19", "assessments-title"),
]
NAVIGATION = [  # an administrator sees every link of staff.js's PAGES
    "Consola de agente",
    "Tablero",
    "Transcripciones",
    "Reporte mensual",
    "Evaluaciones COVID-19",
    "Base de conocimiento",
]


def test_every_staff_page_shows_the_shared_header_and_its_own_title(
    system: RunningSystem, new_page: Any
) -> None:
    create_user(system, "alba.admin", "admin")
    page = new_page()
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, f"{system.base_url}/consola", "alba.admin")
    console_errors.clear()  # before signing in, GET /api/auth/me answered 401 on purpose

    for url, title, section, heading in PAGES:
        page.goto(f"{system.base_url}{url}")
        expect(page).to_have_title(f"{title} — Ventanilla")
        header = page.locator("header.topbar")
        expect(header.locator("h1")).to_have_text(f"Ventanilla · {section}")
        expect(header.get_by_test_id("session-user")).to_have_text(
            "alba.admin", timeout=UI_TIMEOUT_MS
        )
        expect(header.get_by_test_id("logout")).to_be_visible()
        nav = header.get_by_role("navigation", name="Páginas del personal")
        expect(nav.get_by_role("link")).to_have_text(NAVIGATION)
        expect(page.locator(f"#{heading}")).to_be_visible()
        expect(page.get_by_test_id("login-username")).to_be_hidden()
        if url == "/supervision/transcripciones":  # the channels' names: GET /api/channels
            expect(page.get_by_test_id("filter-channel").locator("option")).to_have_text(
                [
                    "Todos",
                    "Chat web",
                    "API REST",
                    "Telegram",
                    "WhatsApp",
                    "SMS",
                    "Messenger",
                    "Instagram",
                ],
                timeout=UI_TIMEOUT_MS,
            )
        if url.startswith("/supervision"):  # Chart.js (shared) on the pages with charts
            charts = page.evaluate("typeof window.Chart")
            assert charts == ("undefined" if url.endswith("transcripciones") else "function")

    assert page.js_errors == [] and console_errors == [] and page.dialogs == [], (
        page.js_errors,
        console_errors,
        page.dialogs,
    )
