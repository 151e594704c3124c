"""Answers for the bot: the live index, the confidence threshold, feedback and unanswered
questions. Used by the action server (actions/knowledge.py); knows nothing of Rasa.

The index is read from its symlink at every question: a publish swaps the link and the next
question is answered from the new index, without restarting anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from core.db import sync_url
from core.privacy import mask_text
from core.settings import Settings
from knowledge_base.base import index_path
from knowledge_base.models import Article, Feedback, Unanswered
from knowledge_base.search import Document, Hit, HybridIndex, LiveIndex

log = logging.getLogger(__name__)


# Two confident articles closer than this: the bot asks which one is meant instead of guessing.
# Chosen on the dev half of tests/kb/eval.tsv: at 0.02 it asks for about 1 answer in 7 and the
# second article was the right one in 5 of the 23 it asked (0.04: 40 asked, 8).
CLOSE_CALL_MARGIN = 0.02


@dataclass(frozen=True)
class Answer:
    document: Document
    hit: Hit
    runner_up: Document | None = None  # as likely: "¿Te refieres a A o a B?"


class Answers:
    def __init__(self, settings: Settings, index: HybridIndex | None = None) -> None:
        """Answers from the live index of ``settings``, or from ``index`` (benchmarks)."""
        self._settings = settings
        self._live = LiveIndex(index_path(settings))
        self._fixed = index

    def index(self) -> HybridIndex:
        return self._fixed if self._fixed is not None else self._live.get()

    @cached_property
    def _engine(self) -> Engine:
        assert self._settings.database_url
        return create_engine(
            sync_url(self._settings.database_url), pool_pre_ping=True, hide_parameters=True
        )

    @property
    def threshold(self) -> float:
        return self._settings.kb_min_confidence

    def available(self) -> bool:
        return self._fixed is not None or self._live.path.exists()

    def article(self, article_id: str) -> Document | None:
        """A published article in force by its id, as the live index has it."""
        document = self.index().get(article_id) if self.available() else None
        if document is None or not self._in_force(document) or self._withdrawn([article_id]):
            return None
        return document

    def best(self, question: str, campaign: str | None = None) -> tuple[Answer | None, float]:
        """The article to answer with, if confident enough; and the top confidence."""
        if not self.available():
            return None, 0.0
        index = self.index()
        hits = index.search(question, k=5, boost_campaign=campaign)
        # The index is rebuilt when articles change, not when a day passes or a rebuild fails:
        # an article past its "vigencia", or unpublished since, is never answered.
        withdrawn = self._withdrawn([h.id for h in hits])
        hits = [
            h
            for h in hits
            if h.id not in withdrawn
            and (document := index.get(h.id)) is not None
            and self._in_force(document)
        ]
        if not hits:
            return None, 0.0
        # The campaign's articles come first even when weak: answer with the first hit that is
        # confident enough, so a good answer outside the campaign is not silenced.
        for position, hit in enumerate(hits):
            document = index.get(hit.id)
            if document is not None and self._confident(index, hit):
                return Answer(document, hit, self._close_call(index, hit, hits[position + 1 :])), (
                    hit.confidence
                )
        return None, max(h.confidence for h in hits)

    def _close_call(self, index: HybridIndex, hit: Hit, after: list[Hit]) -> Document | None:
        """The next article, when it is confident too and nearly as likely as `hit`."""
        for other in after[:1]:
            if (
                self._confident(index, other)
                and hit.confidence - other.confidence < CLOSE_CALL_MARGIN
            ):
                return index.get(other.id)
        return None

    def _in_force(self, document: Document) -> bool:
        if document.valid_until is None:
            return True
        today = datetime.now(ZoneInfo(self._settings.timezone)).date()
        return today <= date.fromisoformat(document.valid_until)

    def _withdrawn(self, article_ids: list[str]) -> set[str]:
        """Those of the articles the database no longer has live (the live index may be
        older than an unpublish whose rebuild failed). A fixed index (benchmarks) has no
        database; a database that cannot be read withdraws nothing: the answer matters more."""
        if self._fixed is not None or not article_ids:
            return set()
        try:
            with Session(self._engine) as session:
                rows = session.execute(
                    # Not live: an article being edited (draft, in review) keeps its live
                    # revision and is still answered; an unpublished one has none.
                    select(Article.id).where(
                        Article.id.in_(article_ids), Article.live_revision_id.is_(None)
                    )
                )
                return set(rows.scalars())
        except Exception:
            log.exception("could not read which articles are published")
            return set()

    def _confident(self, index: HybridIndex, hit: Hit) -> bool:
        return hit.confidence >= self.threshold and index.plausible(hit)

    # People write their NSS, CURP or phone number into questions; editors read these lists, so
    # identifiers are masked before anything is stored.
    def record_feedback(self, article_id: str, helpful: bool, question: str) -> None:
        query = mask_text(question[:2000])
        self._store(Feedback(article_id=article_id, helpful=helpful, query=query))

    def record_unanswered(self, question: str, campaign: str | None, score: float) -> None:
        self._store(Unanswered(query=mask_text(question[:2000]), campaign=campaign, score=score))

    def _store(self, row: Feedback | Unanswered) -> None:
        try:
            with Session(self._engine) as session:
                session.add(row)
                session.commit()
        except Exception:  # the answer matters more than the statistic
            log.exception("could not store %s", type(row).__name__)
