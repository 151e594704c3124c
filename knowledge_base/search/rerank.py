"""The second stage: which article a question asks for, learned from the articles' own example
questions, to rerank the hybrid search's first candidates and to decide whether to answer.

The first stage (dense + lexical, ``index.py``) compares a question with the articles' text; its
confidence says how well the words are covered, not whether *this* article is the one meant.
The editors write how people ask for each article (``questions:`` in the article files), so a
classifier over those questions (and each title) learns the phrasings that tell articles apart:

* features: TF-IDF of character n-grams within words (2–5: typos, missing accents, slang
  spellings), TF-IDF of words and word pairs, and the e5 query embedding of the question (scaled
  by ``embedding_weight``, so meaning counts as much as spelling);
* model: multinomial logistic regression (scikit-learn), one class per indexed article;
* output: P(article | question) for every article; the index adds ``weight · P`` to the first
  stage's confidence of its first ``depth`` candidates and reorders them by the sum.

A candidate whose P is below ``min_probability`` is not answered at all, however well its words
match: the second stage's veto.

Chosen on the dev half of ``tests/kb/eval.tsv`` (README, "Base de conocimiento"), same 0.76
threshold: in-scope right answers 84.8 % → 92.4 %, out-of-scope questions answered with an
article 5.3 % → 3.2 %.

Why not a cross-encoder: no package on the package index that could be found carries
multilingual cross-encoder weights (the reranker packages download them at run time, which this
project may not), and models are not downloaded at run time.

The model is trained when the index is built (``kb sync``, a publish) and read by the action
server from the index folder: it is saved as plain arrays (vocabularies in JSON; IDF weights,
coefficients and the questions' vectors in ``.npz``), never pickled, so loading an index runs no
code and survives a scikit-learn upgrade; it is applied with numpy and
``CountVectorizer(vocabulary=...)``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

from core.text import fold_accents

if TYPE_CHECKING:
    from knowledge_base.search.embeddings import Embedder
    from knowledge_base.search.index import Document

__all__ = ["ArticleClassifier", "RerankConfig"]

VOCABULARY_FILE = "rerank.json"
ARRAYS_FILE = "rerank.npz"


@dataclass(frozen=True)
class RerankConfig:
    """How the second stage is trained and how much it weighs (chosen on the dev half)."""

    weight: float = 0.25  # added to the first stage's confidence: weight · P(article)
    depth: int = 10  # first-stage candidates it reorders
    regularization: float = 10.0  # logistic regression's C
    embedding_weight: float = 2.0  # scale of the e5 vector next to the TF-IDF features
    min_articles: int = 2  # fewer articles with example questions: no second stage
    # Below this P(article | query) the article is not answered, however well the words match
    # ("receta de chiles en nogada" and the article on refill prescriptions): 3 times the
    # uniform 1/111 of the shipped base.
    min_probability: float = 0.03

    @property
    def enabled(self) -> bool:
        return self.weight > 0


def fold(text: str) -> str:
    """What the classifier reads: lower case, without accents."""
    return fold_accents(text.casefold())


def _counter(analyzer: str, vocabulary: Sequence[str] | None = None) -> CountVectorizer:
    if analyzer == "char_wb":
        return CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), vocabulary=vocabulary)
    return CountVectorizer(analyzer="word", ngram_range=(1, 2), vocabulary=vocabulary)


def _weigh(counts: sparse.spmatrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF · IDF, each row of unit length (what TfidfVectorizer computes)."""
    counts = sparse.csr_matrix(counts, dtype=np.float64)
    counts.data = 1.0 + np.log(counts.data)
    return normalize(sparse.csr_matrix(counts.multiply(idf)))


@dataclass
class _Side:
    """One TF-IDF block of the features: its analyzer, vocabulary and IDF weights."""

    analyzer: str
    vocabulary: list[str]
    idf: np.ndarray

    @classmethod
    def fit(cls, analyzer: str, texts: Sequence[str]) -> _Side:
        counter = _counter(analyzer)
        counts = counter.fit_transform(texts)
        vocabulary = [""] * len(counter.vocabulary_)
        for term, column in counter.vocabulary_.items():
            vocabulary[column] = term
        # Documents per term: each (row, column) is stored once, so count the column indices.
        df = np.bincount(sparse.csr_matrix(counts).indices, minlength=len(vocabulary))
        idf = np.log((1 + len(texts)) / (1 + df)) + 1.0  # smooth IDF, as scikit-learn's
        return cls(analyzer, vocabulary, idf)

    @cached_property
    def counter(self) -> CountVectorizer:
        """Built once: every question is counted with the same vocabulary."""
        return _counter(self.analyzer, self.vocabulary)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return _weigh(self.counter.transform(texts), self.idf)


class ArticleClassifier:
    """P(article | question) over the articles of one index (positions as in the index)."""

    def __init__(
        self,
        config: RerankConfig,
        sides: list[_Side],
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: np.ndarray,
        n_articles: int,
        texts: list[str],
        vectors: np.ndarray,
        labels: list[int],
    ) -> None:
        self.config = config
        self._sides = sides
        self._coef = coef
        self._intercept = intercept
        self._classes = classes  # article position of each coefficient row
        self._n_articles = n_articles
        self._texts = texts  # what it was trained on (its vectors are reused by the next build)
        self._vectors = vectors
        self._labels = labels

    # ---------------------------------------------------------------- training

    @classmethod
    def train(
        cls,
        documents: Sequence[Document],
        embedder: Embedder,
        config: RerankConfig,
        reuse: ArticleClassifier | None = None,
    ) -> ArticleClassifier | None:
        """A classifier of ``documents`` from their titles and example questions; None when
        fewer than ``config.min_articles`` of them have example questions (nothing to learn
        from: XQuAD-es paragraphs, a new base) or the stage is off."""
        from sklearn.linear_model import LogisticRegression

        if not config.enabled:
            return None
        if sum(1 for doc in documents if any(q.strip() for q in doc.questions)) < (
            config.min_articles
        ):
            return None
        texts, labels = [], []
        for position, doc in enumerate(documents):
            for text in [doc.title, *doc.questions]:
                if text.strip():
                    texts.append(fold(text))
                    labels.append(position)
        if (
            reuse is not None
            and reuse.config == config
            and reuse._n_articles == len(documents)
            and reuse._texts == texts
            and reuse._labels == labels
            and reuse._vectors.shape[1:] == (embedder.dim,)
        ):
            return reuse  # the same articles and questions: the same model (a restart's sync)
        vectors = cls._embed(texts, embedder, reuse)
        sides = [_Side.fit("char_wb", texts), _Side.fit("word", texts)]
        features = cls._features(sides, texts, vectors, config)
        model = LogisticRegression(C=config.regularization, max_iter=2000)
        model.fit(features, np.asarray(labels))
        return cls(
            config,
            sides,
            model.coef_.astype(np.float32),
            model.intercept_.astype(np.float32),
            model.classes_.astype(np.int64),
            len(documents),
            texts,
            vectors,
            labels,
        )

    @staticmethod
    def _embed(texts: list[str], embedder: Embedder, reuse: ArticleClassifier | None) -> np.ndarray:
        """Query vectors of ``texts``, reusing the previous model's for texts it had."""
        out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
        known = {}
        if reuse is not None and reuse._vectors.shape[1:] == (embedder.dim,):
            known = {text: i for i, text in enumerate(reuse._texts)}
        todo = []
        for i, text in enumerate(texts):
            if text in known:
                out[i] = reuse._vectors[known[text]]  # type: ignore[union-attr]
            else:
                todo.append(i)
        for start in range(0, len(todo), 32):
            batch = todo[start : start + 32]
            out[batch] = embedder.embed_queries([texts[i] for i in batch])
        return out

    @staticmethod
    def _features(
        sides: list[_Side], texts: Sequence[str], vectors: np.ndarray, config: RerankConfig
    ) -> sparse.csr_matrix:
        blocks = [side.transform(texts) for side in sides]
        blocks.append(sparse.csr_matrix(vectors * config.embedding_weight))
        return sparse.hstack(blocks, format="csr")

    # ---------------------------------------------------------------- using

    def probabilities(self, question: str, vector: np.ndarray) -> np.ndarray:
        """P(article | question) for each article position of the index (they sum to 1)."""
        features = self._features(
            self._sides, [fold(question)], np.asarray(vector, dtype=np.float32)[None, :],
            self.config,
        )  # fmt: skip
        logits = np.asarray(features @ self._coef.T).ravel() + self._intercept
        if len(self._classes) == 2:  # scikit-learn keeps one row for two classes
            logits = np.array([0.0, logits[0]])
        logits = logits - logits.max()
        weights = np.exp(logits)
        out = np.zeros(self._n_articles)
        out[self._classes] = weights / weights.sum()
        return out

    # ---------------------------------------------------------------- saving

    def save(self, folder: Path) -> None:
        (folder / VOCABULARY_FILE).write_text(
            json.dumps(
                {
                    "config": asdict(self.config),
                    "n_articles": self._n_articles,
                    "sides": [
                        {"analyzer": side.analyzer, "vocabulary": side.vocabulary}
                        for side in self._sides
                    ],
                    "texts": self._texts,
                    "labels": self._labels,
                },
                ensure_ascii=False,
            )
        )
        np.savez(
            folder / ARRAYS_FILE,
            coef=self._coef,
            intercept=self._intercept,
            classes=self._classes,
            vectors=self._vectors,
            **{f"idf{i}": side.idf for i, side in enumerate(self._sides)},
        )

    @classmethod
    def load(cls, folder: Path) -> ArticleClassifier | None:
        """The classifier saved in ``folder``; None when the index was built without one."""
        if not (folder / VOCABULARY_FILE).exists():
            return None
        meta: dict[str, Any] = json.loads((folder / VOCABULARY_FILE).read_text())
        with np.load(folder / ARRAYS_FILE) as arrays:
            sides = [
                _Side(side["analyzer"], side["vocabulary"], arrays[f"idf{i}"])
                for i, side in enumerate(meta["sides"])
            ]
            return cls(
                RerankConfig(**meta["config"]),
                sides,
                arrays["coef"],
                arrays["intercept"],
                arrays["classes"],
                int(meta["n_articles"]),
                list(meta["texts"]),
                arrays["vectors"],
                # Saved before labels were kept: none, so the next build trains anew.
                [int(label) for label in meta.get("labels", [])],
            )
