"""The consoles' pages: agent console, supervisor dashboard, transcripts, monthly report.

Templates in handoff/templates/ inside the staff pages' shell (core/web/pages.py), their scripts in
handoff/static/ (served at /consola/static); everything they show comes from the handoff's API.
Mounted by the app factory (ventanilla/app.py).
"""

from __future__ import annotations

from pathlib import Path

from core.web.pages import staff_pages

router = staff_pages(
    Path(__file__).parent,
    {
        "/consola": "console.html",
        "/supervision": "dashboard.html",
        "/supervision/transcripciones": "transcripts.html",
        "/supervision/reporte": "report.html",
    },
    assets="/consola/static",
)
