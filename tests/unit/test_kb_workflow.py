"""The editors' workflow on a real SQLite database: review by a second editor, revisions,
restore, unpublish, and two editors publishing at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from core import db
from core.accounts.models import AuditEvent
from knowledge_base.content import ArticleData
from knowledge_base.service import Workflow, WorkflowError

pytestmark = pytest.mark.asyncio


def article(body: str = "Pide tu constancia en línea.", **changes: object) -> ArticleData:
    data = {
        "id": "vigencia",
        "title": "Consultar tu vigencia",
        "campaign": "derechohabiente",
        "questions": ["sigo vigente?", "constancia de vigencia", "tengo seguro?"],
        "body": body,
        "short_answer": "Pide tu constancia de vigencia en línea con tu CURP y tu NSS.",
        "source": "IMSS",
    }
    return ArticleData(**(data | changes))


@pytest_asyncio.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[object]:
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    await asyncio.to_thread(db.migrate, url)
    engine = db.create_engine(url)
    yield db.session_factory(engine)
    await engine.dispose()


async def audit(sessions: object) -> list[tuple[str, str | None, str | None]]:
    async with sessions() as session:  # type: ignore[operator]
        rows = await session.execute(select(AuditEvent.action, AuditEvent.actor, AuditEvent.target))
        return [tuple(r) for r in rows.all()]


async def test_a_second_editor_approves_and_only_then_the_bot_sees_it(sessions: object) -> None:
    kb = Workflow(sessions)  # type: ignore[arg-type]
    await kb.create(article(), "ana")
    assert await kb.live() == []
    with pytest.raises(WorkflowError, match="enviado a revisión"):
        await kb.publish("vigencia", "beto")
    await kb.submit("vigencia", "ana")
    with pytest.raises(WorkflowError) as own:
        await kb.publish("vigencia", "ana")
    assert own.value.code == "same_editor"
    published = await kb.publish("vigencia", "beto")
    assert published.article.status == "published"
    assert [a.body for a in await kb.live()] == ["Pide tu constancia en línea."]
    assert ("kb_publish", "beto", "vigencia") in await audit(sessions)


async def test_editing_keeps_the_live_version_until_the_new_one_is_published(
    sessions: object,
) -> None:
    kb = Workflow(sessions)  # type: ignore[arg-type]
    await kb.create(article(), "ana")
    await kb.submit("vigencia", "ana")
    await kb.publish("vigencia", "beto")
    edited = await kb.edit("vigencia", article("Texto nuevo."), "ana")
    assert edited.article.status == "draft" and edited.current.number == 2
    assert [a.body for a in await kb.live()] == ["Pide tu constancia en línea."]
    diff = await kb.diff("vigencia", 1, 2)
    assert "-Pide tu constancia en línea." in diff and "+Texto nuevo." in diff

    restored = await kb.restore("vigencia", 1, "beto")
    assert restored.current.number == 3 and restored.data.body == "Pide tu constancia en línea."
    notes = [r.note for r in await kb.revisions("vigencia")]
    assert notes == ["creado", "editado", "restaurada de la revisión 1"]
    assert [r.author for r in await kb.revisions("vigencia")] == ["ana", "ana", "beto"]


async def test_unpublish_takes_it_away_from_the_bot(sessions: object) -> None:
    kb = Workflow(sessions)  # type: ignore[arg-type]
    await kb.create(article(), "ana")
    await kb.submit("vigencia", "ana")
    await kb.publish("vigencia", "beto")
    await kb.unpublish("vigencia", "carla")
    assert await kb.live() == []
    assert ("kb_unpublish", "carla", "vigencia") in await audit(sessions)
    with pytest.raises(WorkflowError, match="no está publicado"):
        await kb.unpublish("vigencia", "carla")


async def test_two_editors_publishing_at_once_one_wins(sessions: object) -> None:
    kb = Workflow(sessions)  # type: ignore[arg-type]
    await kb.create(article(), "ana")
    await kb.submit("vigencia", "ana")
    results = await asyncio.gather(
        kb.publish("vigencia", "beto"), kb.publish("vigencia", "carla"), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, WorkflowError)]
    assert len(errors) == 1 and errors[0].status == 409
    publishes = [a for a in await audit(sessions) if a[0] == "kb_publish"]
    assert len(publishes) == 1


async def test_expired_articles_are_not_answered(sessions: object) -> None:
    from datetime import date

    kb = Workflow(sessions, review_required=False)  # type: ignore[arg-type]
    await kb.ingest([article(valid_until=date(2022, 2, 22))], "ingest")
    assert await kb.live(date(2022, 2, 1)) != [] and await kb.live(date(2026, 1, 1)) == []


async def test_ingest_reports_what_changed_and_publishes_in_a_separate_base(
    sessions: object,
) -> None:
    kb = Workflow(sessions, review_required=False)  # type: ignore[arg-type]
    first = await kb.ingest([article(), article(id="nss", title="Tu NSS")], "ingest")
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    again = await kb.ingest([article(), article(id="nss", title="Tu número NSS")], "ingest")
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert sorted(a.title for a in await kb.live()) == ["Consultar tu vigencia", "Tu número NSS"]

    reviewed = Workflow(sessions)  # type: ignore[arg-type]
    await reviewed.ingest([article(id="borrador", status="draft")], "ingest")
    assert "borrador" not in {a.id for a in await reviewed.live()}


async def test_without_a_short_answer_it_is_neither_sent_to_review_nor_published(
    sessions: object,
) -> None:
    kb = Workflow(sessions)  # type: ignore[arg-type]
    await kb.create(article(short_answer=None), "ana")  # a draft may lack it
    with pytest.raises(WorkflowError) as refused:
        await kb.submit("vigencia", "ana")
    assert refused.value.status == 422 and refused.value.code == "short_answer_missing"
    assert refused.value.message.startswith("Falta la respuesta corta")
    await kb.edit("vigencia", article(), "ana")
    await kb.submit("vigencia", "ana")
    assert (await kb.publish("vigencia", "beto")).article.status == "published"
    assert [a.short_answer for a in await kb.live()] == [article().short_answer]
    assert "+short_answer: Pide tu constancia" in await kb.diff("vigencia", 1, 2)

    separate = Workflow(sessions, review_required=False)  # type: ignore[arg-type]
    await separate.create(article(id="nss", short_answer=None), "ana")
    with pytest.raises(WorkflowError, match="Falta la respuesta corta"):
        await separate.publish("nss", "ana")
    with pytest.raises(WorkflowError, match="Falta la respuesta corta"):
        await separate.ingest([article(id="otro", short_answer=None, status="published")], "x")


async def test_a_source_naming_internal_notes_is_refused(sessions: object) -> None:
    kb = Workflow(sessions)  # type: ignore[arg-type]
    internal = article(source="IMSS; notas de dominio del proyecto")
    with pytest.raises(WorkflowError) as refused:
        await kb.create(internal, "ana")
    assert refused.value.status == 422 and refused.value.code == "internal_source"
    assert "nombra una referencia pública" in refused.value.message
    await kb.create(article(), "ana")
    with pytest.raises(WorkflowError, match="nota para editores"):
        await kb.edit("vigencia", article(source="Ventanilla (bot/domain.yml)"), "ana")
