"""The staff page /evaluaciones ("Evaluaciones COVID-19"): the stored triage assessments, with
filters and the CSV export.

Template in triage/templates/ inside the staff pages' shell (core/web/pages.py), its script in
triage/static/ (served at /evaluaciones/static); everything it shows comes from triage/router.py.
Mounted by the app factory (ventanilla/app.py).
"""

from __future__ import annotations

from pathlib import Path

from core.web.pages import staff_pages

router = staff_pages(
    Path(__file__).parent,
    {"/evaluaciones": "assessments.html"},
    assets="/evaluaciones/static",
)
