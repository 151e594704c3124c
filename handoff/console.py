"""The consoles' pages: agent console, supervisor dashboard, reports (static files + the API).

Mounted by the app factory (ventanilla/app.py) at /consola and /supervision.
"""

from __future__ import annotations

from pathlib import Path

from core.web.pages import static_pages

router = static_pages(
    Path(__file__).parent / "static",
    {
        "/consola": "console.html",
        "/supervision": "dashboard.html",
        "/supervision/transcripciones": "transcripts.html",
        "/supervision/reporte": "report.html",
    },
    assets="/consola/static",
)
