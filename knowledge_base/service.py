"""The editors' workflow over the knowledge-base tables, and ingest of article files.

draft → (submit) in_review → (a second editor approves) published → (unpublish) unpublished.
Every change is a revision with who and when; restoring an old revision makes a new draft from
it. Every publish and unpublish goes to the audit log. The bot answers from each article's live
revision, which stays live while a newer draft is edited and reviewed.

A separate base (`--base DIR`, benchmarks, staging) has `review_required=False`: what is
ingested there is live at once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts.service import record
from core.db import utcnow
from core.errors import ApiError
from knowledge_base.content import ArticleData, publication_problems, to_markdown
from knowledge_base.models import Article, Revision


class WorkflowError(ApiError):
    """A change the workflow does not allow now: HTTP status, code and a Spanish message."""


NOT_FOUND = WorkflowError(404, "not_found", "No existe ese artículo.")


def check(data: ArticleData, publishing: bool) -> None:
    """Refuse (422, Spanish) a source naming internal notes, and, when the article is to be
    published or sent to review, a missing short answer."""
    found = publication_problems(data, publishing)
    if found:
        code = "short_answer_missing" if "short_answer" in found else "internal_source"
        message = " ".join(f"{text[0].upper()}{text[1:]}." for text in found.values())
        raise WorkflowError(422, code, message)


@dataclass(frozen=True)
class ArticleView:
    article: Article
    current: Revision
    live: Revision | None

    @property
    def data(self) -> ArticleData:
        return ArticleData(**self.current.data)


@dataclass(frozen=True)
class IngestReport:
    created: int
    updated: int
    unchanged: int


class Workflow:
    def __init__(self, sessions: async_sessionmaker, review_required: bool = True) -> None:
        self._sessions = sessions
        self.review_required = review_required

    # ------------------------------------------------------------------ reading

    async def view(self, session: AsyncSession, article_id: str) -> ArticleView:
        article = await session.get(Article, article_id)
        if article is None or article.current_revision_id is None:
            raise NOT_FOUND
        current = await session.get(Revision, article.current_revision_id)
        live = (
            await session.get(Revision, article.live_revision_id)
            if article.live_revision_id
            else None
        )
        assert current is not None
        return ArticleView(article, current, live)

    async def get(self, article_id: str) -> ArticleView:
        async with self._sessions() as session:
            return await self.view(session, article_id)

    async def list(
        self, text: str | None = None, status: str | None = None, campaign: str | None = None
    ) -> list[ArticleView]:
        async with self._sessions() as session:
            query = select(Article, Revision).join(
                Revision, Revision.id == Article.current_revision_id
            )
            if status:
                query = query.where(Article.status == status)
            if campaign:
                query = query.where(Article.campaign == campaign)
            rows = (await session.execute(query.order_by(Article.id))).all()
        views = [ArticleView(a, r, None) for a, r in rows]
        if text:
            needle = text.lower()
            views = [
                v
                for v in views
                if needle in v.article.id
                or needle in v.current.data["title"].lower()
                or any(needle in q.lower() for q in v.current.data["questions"])
                or needle in v.current.data["body"].lower()
            ]
        return views

    async def revisions(self, article_id: str) -> list[Revision]:
        async with self._sessions() as session:
            await self.view(session, article_id)
            result = await session.execute(
                select(Revision).where(Revision.article_id == article_id).order_by(Revision.number)
            )
            return list(result.scalars())

    async def diff(self, article_id: str, old: int, new: int) -> str:
        """Unified diff between two revisions, as the files would differ."""
        by_number = {r.number: r for r in await self.revisions(article_id)}
        if old not in by_number or new not in by_number:
            raise WorkflowError(404, "no_revision", "No existe esa revisión.")
        before = to_markdown(ArticleData(**by_number[old].data)).splitlines(keepends=True)
        after = to_markdown(ArticleData(**by_number[new].data)).splitlines(keepends=True)
        return "".join(difflib.unified_diff(before, after, f"revisión {old}", f"revisión {new}"))

    async def live(self, today: date | None = None) -> list[ArticleData]:
        """What the bot may answer from: live revisions valid today."""
        today = today or utcnow().date()
        async with self._sessions() as session:
            result = await session.execute(
                select(Revision).join(Article, Article.live_revision_id == Revision.id)
            )
            articles = [ArticleData(**r.data) for r in result.scalars()]
        return [a for a in articles if a.valid_on(today)]

    # ------------------------------------------------------------------ changing

    async def _add_revision(
        self, session: AsyncSession, article: Article, data: ArticleData, author: str | None,
        note: str,
    ) -> Revision:  # fmt: skip
        number = (
            await session.execute(
                select(func.coalesce(func.max(Revision.number), 0)).where(
                    Revision.article_id == article.id
                )
            )
        ).scalar_one() + 1
        revision = Revision(
            article_id=article.id,
            number=number,
            data=data.model_dump(mode="json"),
            author=author,
            note=note,
        )
        session.add(revision)
        await session.flush()
        article.current_revision_id = revision.id
        article.campaign = data.campaign
        article.updated_at = utcnow()
        return revision

    async def create(self, data: ArticleData, author: str) -> ArticleView:
        check(data, publishing=False)
        async with self._sessions() as session:
            if await session.get(Article, data.id) is not None:
                raise WorkflowError(409, "exists", f"Ya existe un artículo con el id «{data.id}».")
            article = Article(id=data.id, campaign=data.campaign, status="draft")
            session.add(article)
            await session.flush()
            await self._add_revision(session, article, data, author, "creado")
            record(session, "kb_create", actor=author, target=data.id)
            await session.commit()
            return await self.view(session, data.id)

    async def edit(self, article_id: str, data: ArticleData, author: str) -> ArticleView:
        if data.id != article_id:
            raise WorkflowError(400, "id_mismatch", "El id no se puede cambiar.")
        check(data, publishing=False)
        async with self._sessions() as session:
            view = await self.view(session, article_id)
            await self._add_revision(session, view.article, data, author, "editado")
            view.article.status = "draft"
            view.article.submitted_by = None
            await session.commit()
            return await self.view(session, article_id)

    async def submit(self, article_id: str, author: str) -> ArticleView:
        async with self._sessions() as session:
            view = await self.view(session, article_id)
            if view.article.status not in ("draft", "unpublished"):
                raise WorkflowError(
                    409, "not_draft", "Solo un borrador se puede enviar a revisión."
                )
            check(view.data, publishing=True)
            view.article.status = "in_review"
            view.article.submitted_by = author
            record(session, "kb_submit", actor=author, target=article_id)
            await session.commit()
            return await self.view(session, article_id)

    async def publish(self, article_id: str, editor: str) -> ArticleView:
        """Approve and publish the revision under review: a second editor, not its submitter.

        Two editors publishing at once: the conditional UPDATE lets exactly one through.
        """
        async with self._sessions() as session:
            view = await self.view(session, article_id)
            if self.review_required:
                if view.article.status != "in_review":
                    raise WorkflowError(
                        409, "not_in_review", "Solo se publica un artículo enviado a revisión."
                    )
                if view.article.submitted_by == editor:
                    raise WorkflowError(
                        403,
                        "same_editor",
                        "Otra persona editora debe aprobar lo que tú enviaste a revisión.",
                    )
                condition = Article.status == "in_review"
            else:
                condition = Article.status != "published"
            check(view.data, publishing=True)
            result = await session.execute(
                update(Article)
                .where(
                    Article.id == article_id,
                    condition,
                    Article.current_revision_id == view.current.id,
                )
                .values(status="published", live_revision_id=view.current.id, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                await session.rollback()
                raise WorkflowError(
                    409, "conflict", "Alguien más acaba de publicar o cambiar este artículo."
                )
            record(
                session,
                "kb_publish",
                actor=editor,
                target=article_id,
                revision=view.current.number,
                submitted_by=view.article.submitted_by,
            )
            await session.commit()
            await session.refresh(view.article)
            return await self.view(session, article_id)

    async def unpublish(self, article_id: str, editor: str) -> ArticleView:
        async with self._sessions() as session:
            view = await self.view(session, article_id)
            if view.article.live_revision_id is None:
                raise WorkflowError(409, "not_live", "Este artículo no está publicado.")
            view.article.live_revision_id = None
            view.article.status = "unpublished"
            record(session, "kb_unpublish", actor=editor, target=article_id)
            await session.commit()
            return await self.view(session, article_id)

    async def restore(self, article_id: str, number: int, editor: str) -> ArticleView:
        """A new draft with the content of revision `number`."""
        async with self._sessions() as session:
            view = await self.view(session, article_id)
            old = (
                await session.execute(
                    select(Revision).where(
                        Revision.article_id == article_id, Revision.number == number
                    )
                )
            ).scalar_one_or_none()
            if old is None:
                raise WorkflowError(404, "no_revision", "No existe esa revisión.")
            await self._add_revision(
                session,
                view.article,
                ArticleData(**old.data),
                editor,
                f"restaurada de la revisión {number}",
            )
            view.article.status = "draft"
            view.article.submitted_by = None
            await session.commit()
            return await self.view(session, article_id)

    async def ingest(self, articles: list[ArticleData], actor: str) -> IngestReport:
        """One transaction for the whole batch: all of it or nothing.

        In the configured base a file's `status: published` is published as is (files come
        reviewed through version control); in a separate base everything is live at once.
        """
        created = updated = unchanged = 0
        async with self._sessions() as session:
            for data in articles:
                check(data, publishing=data.status == "published")
                article = await session.get(Article, data.id)
                live = not self.review_required or data.status == "published"
                if article is None:
                    article = Article(id=data.id, campaign=data.campaign, status="draft")
                    session.add(article)
                    await session.flush()
                    created += 1
                else:
                    current = await session.get(Revision, article.current_revision_id)
                    same = current is not None and current.data == data.model_dump(mode="json")
                    if same and (article.live_revision_id == article.current_revision_id) == live:
                        unchanged += 1
                        continue
                    updated += 1
                revision = await self._add_revision(session, article, data, actor, "importado")
                if live:
                    article.status = "published"
                    article.live_revision_id = revision.id
                    record(session, "kb_publish", actor=actor, target=data.id, via="ingest")
                else:
                    article.status = "draft"
            await session.commit()
        return IngestReport(created, updated, unchanged)
