"""The editors' API on the short answer and the source: read and written with the article, in
revisions and diffs; publishing without a short answer and an internal source are refused with a
Spanish message. A small app with the knowledge-base router and a real SQLite database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core import db
from core.errors import install_error_handlers
from knowledge_base.router import editor, router
from knowledge_base.service import Workflow

ARTICLE = {
    "id": "vigencia",
    "title": "Consultar tu vigencia",
    "campaign": "derechohabiente",
    "questions": ["sigo vigente?", "constancia de vigencia", "tengo seguro?"],
    "body": "Entra a la página del IMSS (imss.gob.mx) y pide tu **constancia**.",
    "source": "IMSS, servicios digitales: Constancia de Vigencia de Derechos",
}
SHORT = "Pide tu constancia de vigencia en imss.gob.mx con tu CURP y tu NSS."


class Indexer:
    def __init__(self, workflow: Workflow) -> None:
        self.kb = SimpleNamespace(workflow=workflow)
        self.rebuilds = 0

    async def rebuild(self) -> int:
        self.rebuilds += 1
        return 0


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    db.migrate(url)
    engine = db.create_engine(url)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.state.kb_indexer = Indexer(Workflow(db.session_factory(engine)))
    yield app
    asyncio.run(engine.dispose())


def as_editor(app: FastAPI, username: str) -> TestClient:
    app.dependency_overrides[editor] = lambda: SimpleNamespace(username=username, role="editor")
    return TestClient(app)


def test_publishing_without_a_short_answer_is_refused_in_spanish(app: FastAPI) -> None:
    ana = as_editor(app, "ana")
    created = ana.post("/api/kb/articles", json=ARTICLE)
    assert created.status_code == 201 and created.json()["data"]["short_answer"] is None
    refused = ana.post("/api/kb/articles/vigencia/submit")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "short_answer_missing"
    assert error["message"].startswith("Falta la respuesta corta")

    # Restoring the revision without one gives a draft that cannot be sent to review either.
    edited = ana.put("/api/kb/articles/vigencia", json=ARTICLE | {"short_answer": SHORT})
    assert edited.status_code == 200 and edited.json()["data"]["short_answer"] == SHORT
    assert ana.post("/api/kb/articles/vigencia/revisions/1/restore").status_code == 200
    assert ana.post("/api/kb/articles/vigencia/submit").status_code == 422

    ana.put("/api/kb/articles/vigencia", json=ARTICLE | {"short_answer": SHORT})
    assert ana.post("/api/kb/articles/vigencia/submit").status_code == 200
    beto = as_editor(app, "beto")
    published = beto.post("/api/kb/articles/vigencia/publish")
    assert published.status_code == 200 and published.json()["live"] is True
    assert beto.get("/api/kb/articles/vigencia").json()["data"]["short_answer"] == SHORT
    numbers = [r["number"] for r in beto.get("/api/kb/articles/vigencia/revisions").json()]
    assert numbers == [1, 2, 3, 4]
    diff = beto.get("/api/kb/articles/vigencia/diff", params={"from": 1, "to": 2}).json()["diff"]
    assert f"+short_answer: {SHORT}" in diff


def test_a_source_naming_internal_notes_is_refused(app: FastAPI) -> None:
    ana = as_editor(app, "ana")
    internal = ARTICLE | {"source": "Notas de dominio del proyecto (bot/domain.yml)"}
    refused = ana.post("/api/kb/articles", json=internal)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "internal_source"
    assert "referencia pública" in refused.json()["error"]["message"]


def test_a_short_answer_over_300_characters_or_with_markdown_is_invalid(app: FastAPI) -> None:
    ana = as_editor(app, "ana")
    for short in ("x" * 301, "Pide tu **constancia** en línea."):
        response = ana.post("/api/kb/articles", json=ARTICLE | {"short_answer": short})
        assert response.status_code == 422
        assert ["body", "short_answer"] in [d["loc"] for d in response.json()["error"]["details"]]
