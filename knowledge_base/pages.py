"""The editors' pages (/editores): articles, the article editor, unanswered questions.

Templates in knowledge_base/templates/ inside the staff pages' shell (core/web/pages.py), their
scripts and kb.css in knowledge_base/static/ (served at /editores/static); the shared helpers and
stylesheet come from /static/. Everything they show comes from the editors' API (/api/kb,
knowledge_base/router.py) with the consoles' session cookie.
"""

from __future__ import annotations

from pathlib import Path

from core.web.pages import staff_pages

router = staff_pages(
    Path(__file__).parent,
    {
        "/editores": "articles.html",
        "/editores/articulo": "article.html",
        "/editores/sin-respuesta": "unanswered.html",
    },
    assets="/editores/static",
)
