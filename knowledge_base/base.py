"""A knowledge base: its articles' database and its search index, opened together.

The configured base lives in the application database with its index under
`VAR_DIR/kb/index`, and publishing needs a second editor. A separate base (`--base DIR`, for
benchmarks or staging) keeps both in DIR (`kb.db`, `index`) and needs no review.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from core import db
from core.settings import Settings
from knowledge_base.content import ArticleData
from knowledge_base.search import Document, HybridIndex, IndexConfig, make_embedder
from knowledge_base.search.embeddings import Embedder
from knowledge_base.service import Workflow

Progress = Callable[[int, int], None]

# The articles' example questions are embedded too (title + question as a passage): on the
# held-out phrasings of tests/kb/heldout.tsv, top-1 0.772 against 0.728 without them.
INDEX_CONFIG = IndexConfig(question_mode="passage")


def as_document(article: ArticleData) -> Document:
    return Document(
        id=article.id,
        title=article.title,
        body=article.body,
        questions=list(article.questions),
        campaign=article.campaign,
        source=article.source,
        short_answer=article.short_answer,
        valid_until=article.valid_until.isoformat() if article.valid_until else None,
    )


def index_path(settings: Settings, base: Path | None = None) -> Path:
    return (base / "index") if base is not None else settings.var_dir / "kb" / "index"


def embedder_for(settings: Settings) -> Embedder:
    return make_embedder(settings.kb_embeddings_backend, settings.kb_embeddings_model)


@dataclass
class KnowledgeBase:
    workflow: Workflow
    index_path: Path
    embedder_factory: Callable[[], Embedder]

    async def reindex(self, progress: Progress | None = None) -> int:
        """Build the index of the live articles and swap it in; only changed texts are
        embedded again (the previous index is reused). Returns the number of articles."""
        documents = [as_document(a) for a in await self.workflow.live()]
        await asyncio.to_thread(self._build_and_swap, documents, progress)
        return len(documents)

    def _build_and_swap(self, documents: list[Document], progress: Progress | None) -> None:
        previous = None
        if self.index_path.exists():
            try:
                previous = HybridIndex.load(self.index_path)
            except Exception:  # an index of another model, or damaged: embed everything
                previous = None
        embedder = self.embedder_factory()
        if previous is not None and previous.embedder.spec != embedder.spec:
            previous = None  # another model: its vectors cannot be reused
        index = HybridIndex.build(
            documents, embedder, INDEX_CONFIG, progress=progress, reuse=previous
        )
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        index.save(self.index_path)


@asynccontextmanager
async def open_base(settings: Settings, base: Path | None = None) -> AsyncIterator[KnowledgeBase]:
    """The configured knowledge base, or the separate one in `base`."""
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{(base / 'kb.db').resolve()}"
    else:
        assert settings.database_url
        url = settings.database_url
    await asyncio.to_thread(db.migrate, url)
    engine = db.create_engine(url)
    try:
        yield KnowledgeBase(
            Workflow(db.session_factory(engine), review_required=base is None),
            index_path(settings, base),
            lambda: embedder_for(settings),
        )
    finally:
        await engine.dispose()
