"""The editors' API: articles, their workflow and revisions, unanswered questions, search.

Every endpoint needs the `editor` (or `admin`) role; publishing rebuilds the index and swaps it
in before answering, so the bot answers from it at its next question.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from starlette.requests import HTTPConnection

from core.accounts.models import User
from core.accounts.router import CurrentUser
from core.db import RowId
from core.errors import ApiError, error_responses
from core.web.deps import SessionDep
from knowledge_base import unanswered
from knowledge_base.base import KnowledgeBase
from knowledge_base.content import ArticleData
from knowledge_base.models import Unanswered
from knowledge_base.search import LiveIndex
from knowledge_base.service import ArticleView

router = APIRouter(
    prefix="/api/kb", tags=["knowledge base"], responses=error_responses(401, 403, 404)
)


def editor(user: CurrentUser) -> User:
    if user.role not in ("editor", "admin"):
        raise ApiError(
            403, "forbidden", "Solo el equipo editorial puede usar la base de conocimiento."
        )
    return user


Editor = Annotated[User, Depends(editor)]


class Indexer:
    """Rebuilds the index after a publish; one build at a time, each sees the latest state."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.live = LiveIndex(kb.index_path)
        self._lock = asyncio.Lock()

    async def rebuild(self) -> int:
        async with self._lock:
            return await self.kb.reindex()


def get_indexer(conn: HTTPConnection) -> Indexer:
    return conn.app.state.kb_indexer


IndexerDep = Annotated[Indexer, Depends(get_indexer)]


class ArticleOut(BaseModel):
    id: str
    status: str = Field(description="draft | in_review | published | unpublished")
    live: bool = Field(description="Whether the bot answers from some revision of it")
    live_revision: int | None
    revision: int
    submitted_by: str | None
    updated_at: datetime
    data: ArticleData


class ArticleSummary(BaseModel):
    id: str
    title: str
    campaign: str
    status: str
    live: bool
    revision: int
    updated_at: datetime


class RevisionOut(BaseModel):
    number: int
    author: str | None
    note: str
    created_at: datetime
    live: bool


def article_out(view: ArticleView) -> ArticleOut:
    return ArticleOut(
        id=view.article.id,
        status=view.article.status,
        live=view.live is not None,
        live_revision=view.live.number if view.live else None,
        revision=view.current.number,
        submitted_by=view.article.submitted_by,
        updated_at=view.article.updated_at,
        data=view.data,
    )


@router.get("/articles", response_model=list[ArticleSummary], summary="List and search articles")
async def list_articles(
    user: Editor,
    indexer: IndexerDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: str | None = None,
    campaign: str | None = None,
) -> list[ArticleSummary]:
    views = await indexer.kb.workflow.list(q, status, campaign)
    return [
        ArticleSummary(
            id=v.article.id,
            title=v.current.data["title"],
            campaign=v.article.campaign,
            status=v.article.status,
            live=v.article.live_revision_id is not None,
            revision=v.current.number,
            updated_at=v.article.updated_at,
        )
        for v in views
    ]


@router.post("/articles", response_model=ArticleOut, status_code=201, summary="Create a draft")
async def create_article(body: ArticleData, user: Editor, indexer: IndexerDep) -> ArticleOut:
    return article_out(await indexer.kb.workflow.create(body, user.username))


@router.get("/articles/{article_id}", response_model=ArticleOut, summary="An article's draft")
async def get_article(article_id: str, user: Editor, indexer: IndexerDep) -> ArticleOut:
    return article_out(await indexer.kb.workflow.get(article_id))


@router.put(
    "/articles/{article_id}", response_model=ArticleOut, summary="Edit: a new draft revision"
)
async def edit_article(
    article_id: str, body: ArticleData, user: Editor, indexer: IndexerDep
) -> ArticleOut:
    return article_out(await indexer.kb.workflow.edit(article_id, body, user.username))


@router.post("/articles/{article_id}/submit", response_model=ArticleOut, summary="Send to review")
async def submit_article(article_id: str, user: Editor, indexer: IndexerDep) -> ArticleOut:
    return article_out(await indexer.kb.workflow.submit(article_id, user.username))


@router.post(
    "/articles/{article_id}/publish",
    response_model=ArticleOut,
    summary="Approve and publish (a second editor); the index is rebuilt before answering",
)
async def publish_article(article_id: str, user: Editor, indexer: IndexerDep) -> ArticleOut:
    view = await indexer.kb.workflow.publish(article_id, user.username)
    await indexer.rebuild()
    return article_out(view)


@router.post(
    "/articles/{article_id}/unpublish",
    response_model=ArticleOut,
    summary="Take it away from the bot; the index is rebuilt before answering",
)
async def unpublish_article(article_id: str, user: Editor, indexer: IndexerDep) -> ArticleOut:
    view = await indexer.kb.workflow.unpublish(article_id, user.username)
    await indexer.rebuild()
    return article_out(view)


@router.get(
    "/articles/{article_id}/revisions",
    response_model=list[RevisionOut],
    summary="Every revision, with who and when",
)
async def revisions(article_id: str, user: Editor, indexer: IndexerDep) -> list[RevisionOut]:
    view = await indexer.kb.workflow.get(article_id)
    found = await indexer.kb.workflow.revisions(article_id)
    return [
        RevisionOut(
            number=r.number,
            author=r.author,
            note=r.note,
            created_at=r.created_at,
            live=view.live is not None and r.id == view.live.id,
        )
        for r in found
    ]


@router.get("/articles/{article_id}/diff", summary="Unified diff between two revisions")
async def diff(
    article_id: str,
    user: Editor,
    indexer: IndexerDep,
    old: Annotated[int, Query(alias="from", ge=1)],
    new: Annotated[int, Query(alias="to", ge=1)],
) -> dict[str, Any]:
    return {
        "from": old,
        "to": new,
        "diff": await indexer.kb.workflow.diff(article_id, old, new),
    }


@router.post(
    "/articles/{article_id}/revisions/{number}/restore",
    response_model=ArticleOut,
    summary="A new draft with an old revision's content",
)
async def restore(article_id: str, number: RowId, user: Editor, indexer: IndexerDep) -> ArticleOut:
    return article_out(await indexer.kb.workflow.restore(article_id, number, user.username))


@router.get("/search", summary="Search the published articles, as the bot would")
async def search(
    user: Editor,
    indexer: IndexerDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    k: Annotated[int, Query(ge=1, le=20)] = 5,
    campaign: str | None = None,
) -> list[dict[str, Any]]:
    if not indexer.kb.index_path.exists():
        return []
    hits = await asyncio.to_thread(indexer.live.search, q, k, campaign)
    return [
        {"id": h.id, "title": h.title, "score": h.score, "confidence": h.confidence} for h in hits
    ]


class GroupOut(BaseModel):
    question: str = Field(description="The question the group formed around")
    count: int
    questions: list[str]
    ids: list[RowId]


@router.get(
    "/unanswered",
    response_model=list[GroupOut],
    summary="Questions the bot could not answer, grouped by meaning, the most asked first",
)
async def unanswered_groups(
    user: Editor,
    indexer: IndexerDep,
    session: SessionDep,
    threshold: Annotated[float, Query(ge=0.5, le=1.0)] = unanswered.DEFAULT_THRESHOLD,
) -> list[GroupOut]:
    rows = list(
        (
            await session.execute(
                select(Unanswered)
                .where(Unanswered.resolved_article_id.is_(None))
                .order_by(Unanswered.id)
            )
        ).scalars()
    )
    if not rows:
        return []
    texts = [r.query for r in rows]
    embedder = indexer.kb.embedder_factory()
    vectors = await asyncio.to_thread(embedder.embed_queries, texts)
    groups = unanswered.group(np.asarray(vectors), threshold)
    return [
        GroupOut(
            question=unanswered.representative(texts, members),
            count=len(members),
            questions=[texts[i] for i in members],
            ids=[rows[i].id for i in members],
        )
        for members in groups
    ]


class DraftFromGroup(BaseModel):
    ids: list[RowId] = Field(
        min_length=1, max_length=1000, description="The group's unanswered-question ids"
    )
    id: str = Field(description="The new article's id (kebab-case)")
    title: str
    campaign: str


@router.post(
    "/unanswered/draft",
    response_model=ArticleOut,
    status_code=201,
    summary="Turn a group of unanswered questions into a new draft article",
)
async def draft_from_group(
    body: DraftFromGroup, user: Editor, indexer: IndexerDep, session: SessionDep
) -> ArticleOut:
    rows = list(
        (await session.execute(select(Unanswered).where(Unanswered.id.in_(body.ids)))).scalars()
    )
    if not rows:
        raise ApiError(404, "not_found", "No existen esas preguntas.")
    questions = list(dict.fromkeys(r.query for r in rows))
    try:
        data = ArticleData(
            id=body.id,
            title=body.title,
            campaign=body.campaign,
            questions=questions,
            body="(Escribe aquí la respuesta.)",
            source="Pendiente",
            editor_note=f"Creado de {len(rows)} preguntas sin respuesta.",
        )
    except ValueError as exc:
        raise ApiError(
            422,
            "invalid_article",
            "El id (kebab-case), el título o la campaña del borrador no son válidos.",
        ) from exc
    view = await indexer.kb.workflow.create(data, user.username)
    await session.execute(
        update(Unanswered).where(Unanswered.id.in_(body.ids)).values(resolved_article_id=body.id)
    )
    await session.commit()
    return article_out(view)
