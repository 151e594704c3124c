"""The knowledge base against the real system: answers in the conversation, feedback,
unanswered questions, the editors' API (publish → answered without restart), the CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from core.settings import PROJECT_ROOT
from tests.utils.staff import Staff, create_user, eventually, rest_say
from ventanilla.launcher import RunningSystem

pytestmark = pytest.mark.integration


def rows(system: RunningSystem, query: str) -> list[tuple]:
    database = Path(system.env["VENTANILLA_VAR_DIR"]) / "ventanilla.db"
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


def ask(system: RunningSystem, text: str, sender: str | None = None) -> list[dict]:
    sender = sender or f"kb-{uuid.uuid4().hex}"
    rest_say(system, sender, "hola")
    return rest_say(system, sender, text)


@pytest.fixture(scope="module")
def editors(system: RunningSystem) -> tuple[Staff, Staff]:
    create_user(system, "eli.kb", "editor")
    create_user(system, "omar.kb", "editor")
    return Staff(system, "eli.kb"), Staff(system, "omar.kb")


def test_a_question_is_answered_with_its_source_and_feedback_is_stored(
    system: RunningSystem,
) -> None:
    sender = f"kb-{uuid.uuid4().hex}"
    reply = ask(system, "¿cómo saco mi número de seguridad social?", sender)
    answer, helpful = reply[0]["text"], reply[-1]
    assert answer.startswith("Obtener o localizar tu Número de Seguridad Social")
    assert "\nFuente: IMSS" in answer and "**" not in answer
    # The REST answer names the article on the message that carries it (integrators, reports).
    assert reply[0]["article"]["id"] == "obtener-nss"
    assert reply[0]["article"]["title"] == answer.split("\n")[0]
    assert reply[0]["article"]["source"].startswith("IMSS")
    assert helpful["article"] is None
    assert helpful["text"] == "¿Te sirvió esta respuesta?"
    assert [b["payload"] for b in helpful["buttons"]] == ["/affirm", "/deny", "/kb_full_answer"]
    # The short answer first (at most 300 characters of it), the whole one on request.
    assert len(answer.split("\nFuente:")[0].split("\n", 1)[1]) <= 300
    whole = rest_say(system, sender, "/kb_full_answer")
    assert len(whole[0]["text"]) > len(answer) and whole[0]["article"]["id"] == "obtener-nss"
    assert [b["payload"] for b in whole[-1]["buttons"]] == ["/affirm", "/deny"]
    assert "Qué bueno" in rest_say(system, sender, "/affirm")[0]["text"]
    stored = rows(system, "SELECT article_id, helpful, query FROM kb_feedback")
    assert ("obtener-nss", 1, "¿cómo saco mi número de seguridad social?") in stored


def test_below_the_threshold_the_bot_says_it_does_not_know(system: RunningSystem) -> None:
    question = "¿cómo tramito la licencia de pesca deportiva?"  # not the institute's business
    reply = ask(system, question)
    text = " ".join(m["text"] for m in reply)
    if "No encontré una respuesta confiable" not in text:
        pytest.fail(f"answered instead of abstaining: {text[:200]}")
    assert {"title": "Hablar con una persona", "payload": "/request_human"} in reply[-1]["buttons"]
    assert (question,) in rows(system, "SELECT query FROM kb_unanswered")


def test_publish_is_answered_without_restart_and_unpublish_takes_it_away(
    system: RunningSystem, editors: tuple[Staff, Staff]
) -> None:
    eli, omar = editors
    article = {
        "id": "credencial-de-ejemplo",
        "title": "Credencial de lector de la biblioteca Xochipilli",
        "campaign": "bienestar_social",
        "questions": [
            "como tramito la credencial de la biblioteca xochipilli",
            "credencial biblioteca xochipilli",
            "necesito credencial para la biblioteca xochipilli",
        ],
        "body": "Pide la credencial de la biblioteca Xochipilli en el mostrador con una foto.",
        "short_answer": "Pide la credencial en el mostrador de la biblioteca con una foto.",
        "source": "Prueba automática",
    }
    assert eli.post("/api/kb/articles", article).status_code == 201
    assert eli.post(f"/api/kb/articles/{article['id']}/submit").status_code == 200
    own = eli.post(f"/api/kb/articles/{article['id']}/publish")
    assert own.status_code == 403 and "Otra persona editora" in own.json()["error"]["message"]
    published = omar.post(f"/api/kb/articles/{article['id']}/publish")
    assert published.status_code == 200 and published.json()["live"] is True

    answer = ask(system, "¿cómo tramito la credencial de la biblioteca xochipilli?")[0]["text"]
    assert answer.startswith("Credencial de lector de la biblioteca Xochipilli")

    assert omar.post(f"/api/kb/articles/{article['id']}/unpublish").status_code == 200
    after = ask(system, "¿cómo tramito la credencial de la biblioteca xochipilli?")
    assert not any("Xochipilli" in m["text"] for m in after)
    audit = rows(system, "SELECT action, actor, target FROM audit_events WHERE action LIKE 'kb_%'")
    assert ("kb_publish", "omar.kb", article["id"]) in audit
    assert ("kb_unpublish", "omar.kb", article["id"]) in audit


def test_revisions_diff_and_restore(editors: tuple[Staff, Staff]) -> None:
    eli, _ = editors
    original = eli.get("/api/kb/articles/vigencia-de-derechos").json()
    changed = {**original["data"], "body": original["data"]["body"] + "\nLínea nueva."}
    edited = eli.put("/api/kb/articles/vigencia-de-derechos", changed).json()
    assert edited["status"] == "draft" and edited["live"] is True  # the old version stays live
    number = edited["revision"]
    diff = eli.get("/api/kb/articles/vigencia-de-derechos/diff", **{"from": 1, "to": number})
    assert "+Línea nueva." in diff.json()["diff"]
    restored = eli.post("/api/kb/articles/vigencia-de-derechos/revisions/1/restore").json()
    assert restored["revision"] == number + 1 and "Línea nueva." not in restored["data"]["body"]
    history = eli.get("/api/kb/articles/vigencia-de-derechos/revisions").json()
    assert (
        history[-1]["note"] == "restaurada de la revisión 1" and history[-1]["author"] == "eli.kb"
    )


def test_unanswered_questions_are_grouped_and_become_a_draft(
    system: RunningSystem, editors: tuple[Staff, Staff]
) -> None:
    eli, _ = editors
    for question in (
        "como tramito la licencia de pesca deportiva",
        "¿cómo tramito la licencia de pesca deportiva?",
    ):
        ask(system, question)
    groups = eventually(
        lambda: [g for g in eli.get("/api/kb/unanswered").json() if "pesca" in g["question"]]
    )
    assert groups[0]["count"] >= 2
    draft = eli.post(
        "/api/kb/unanswered/draft",
        {
            "ids": groups[0]["ids"],
            "id": "licencia-de-pesca",
            "title": "Licencia de pesca deportiva",
            "campaign": "bienestar_social",
        },
    )
    assert draft.status_code == 201 and draft.json()["status"] == "draft"
    assert "pesca" in draft.json()["data"]["questions"][0]
    assert not [g for g in eli.get("/api/kb/unanswered").json() if "pesca" in g["question"]]


def test_every_kb_endpoint_refuses_anonymous_callers_and_agents(system: RunningSystem) -> None:
    # An agent of a campaign no other test of the shared system hands off to; logged out after.
    create_user(system, "ana.kbagente", "agent", "denuncias")
    agent = Staff(system, "ana.kbagente")
    spec = httpx.get(f"{system.base_url}/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/kb"):
            continue
        url = system.base_url + path.replace("{article_id}", "vigencia-de-derechos").replace(
            "{number}", "1"
        )
        for method in operations:
            anonymous = httpx.request(method.upper(), url, json={}, timeout=10)
            assert anonymous.status_code == 401, (method, path)
            as_agent = httpx.request(method.upper(), url, json={}, headers=agent.headers)
            assert as_agent.status_code == 403, (method, path, as_agent.text)
            checked += 1
    assert checked >= 12
    assert agent.post("/api/auth/logout").status_code == 204


def kb(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ventanilla.cli", "kb", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_broken_file_stops_the_whole_batch(tmp_path: Path) -> None:
    articles = tmp_path / "articulos"
    articles.mkdir()
    good = (PROJECT_ROOT / "knowledge_base" / "articles" / "obtener-nss.md").read_text()
    (articles / "obtener-nss.md").write_text(good)
    (articles / "roto.md").write_text(
        good.replace("id: obtener-nss", "id: roto").replace("source:", "fuente:")
    )
    base = tmp_path / "base"
    result = kb("ingest", str(articles), "--base", str(base))
    assert result.returncode == 1
    assert "No se importó nada" in result.stderr and "roto.md:" in result.stderr
    assert "«fuente»: campo desconocido" in result.stderr
    assert not (base / "index").exists()


def test_a_separate_base_answers_queries_as_json_lines(tmp_path: Path) -> None:
    articles = tmp_path / "articulos"
    articles.mkdir()
    for name in ("obtener-nss.md", "vigencia-de-derechos.md"):
        (articles / name).write_text(
            (PROJECT_ROOT / "knowledge_base" / "articles" / name).read_text()
        )
    base = tmp_path / "base"
    assert kb("ingest", str(articles), "--base", str(base)).returncode == 0
    queries = tmp_path / "consultas.txt"
    queries.write_text("como saco mi nss\nsigo vigente en el seguro?\n")
    result = kb("search", "--queries", str(queries), "-k", "1", "--json", "--base", str(base))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["results"][0]["id"] for line in lines] == ["obtener-nss", "vigencia-de-derechos"]
    assert lines[0]["query"] == "como saco mi nss" and "score" in lines[0]["results"][0]


def test_within_a_campaign_its_articles_come_first(system: RunningSystem) -> None:
    question = "¿cómo doy de alta a alguien en el seguro?"
    sender = f"kb-{uuid.uuid4().hex}"
    rest_say(system, sender, "hola")
    chosen = rest_say(system, sender, '/ask_question{"campaign": "contribuyente"}')
    assert chosen[0]["text"] == "Listo. Escribe tu pregunta con tus palabras."
    as_employer = rest_say(system, sender, question)[0]["text"]
    assert as_employer.startswith("Dar de alta a un trabajador"), as_employer[:80]
    without = ask(system, question)[0]["text"]
    assert not without.startswith("Dar de alta a un trabajador"), without[:80]
