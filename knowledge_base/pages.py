"""The editors' pages (/editores): articles, the article editor, unanswered questions.

Static HTML files and their assets (knowledge_base/static/); everything they show comes from the
editors' API (/api/kb, knowledge_base/router.py) with the consoles' session cookie. The pages load
the staff pages' shared helpers and stylesheet from /consola/static/ (handoff/console.py).
"""

from __future__ import annotations

from pathlib import Path

from core.web.pages import static_pages

router = static_pages(
    Path(__file__).parent / "static",
    {
        "/editores": "articles.html",
        "/editores/articulo": "article.html",
        "/editores/sin-respuesta": "unanswered.html",
    },
    assets="/editores/static",
)
