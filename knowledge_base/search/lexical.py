"""The lexical side: BM25 (bm25s, Lucene variant) over Spanish tokens from ``text.tokens``.

Besides the raw BM25 score, ``normalized_scores`` divides by the best score the query could get
(the sum, over its distinct known terms, of the highest score any chunk has for that term), a
number in [0, 1] comparable across queries, which the confidence of a hit uses.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from knowledge_base.search import text

__all__ = ["LexicalConfig", "LexicalIndex"]

_STATS_FILE = "term_max.npy"


@dataclass(frozen=True)
class LexicalConfig:
    k1: float = 1.2
    b: float = 0.75


class LexicalIndex:
    """Token lists in, one BM25 score per indexed row out."""

    def __init__(
        self, bm25: bm25s.BM25 | None, n_rows: int, term_max: np.ndarray, config: LexicalConfig
    ) -> None:
        self._bm25 = bm25
        self._n_rows = n_rows
        self._term_max = term_max
        self.config = config

    @classmethod
    def build(
        cls, rows: Sequence[Sequence[str]], config: LexicalConfig | None = None
    ) -> LexicalIndex:
        """BM25 over ``rows`` (each a list of tokens, as made by ``text.tokens``)."""
        config = config or LexicalConfig()
        corpus = [list(row) for row in rows]
        if not any(corpus):
            return cls(None, len(corpus), np.zeros(0, dtype=np.float32), config)
        bm25 = bm25s.BM25(k1=config.k1, b=config.b, method="lucene")
        # bm25s logs and draws progress bars of its own; the caller reports progress.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        bm25.index(corpus, show_progress=False)
        return cls(bm25, len(corpus), _term_max(bm25), config)

    def __len__(self) -> int:
        return self._n_rows

    def _query_ids(self, query_tokens: Sequence[str]) -> np.ndarray:
        if self._bm25 is None:
            return np.zeros(0, dtype=np.int64)
        vocab = self._bm25.vocab_dict
        n_terms = len(self._term_max)
        ids = {vocab[t] for t in query_tokens if t in vocab and vocab[t] < n_terms}
        return np.fromiter(sorted(ids), dtype=np.int64, count=len(ids))

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 of every row for the distinct ``query_tokens`` (zeros if none is known)."""
        ids = self._query_ids(query_tokens)
        if self._bm25 is None or not len(ids):
            return np.zeros(self._n_rows, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(list(ids)), dtype=np.float32)

    def max_score(self, query_tokens: Sequence[str]) -> float:
        """The highest BM25 the query could reach: the sum of its terms' best single scores."""
        ids = self._query_ids(query_tokens)
        return float(self._term_max[ids].sum()) if len(ids) else 0.0

    def normalized_scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """``scores`` divided by ``max_score``: each in [0, 1]."""
        best = self.max_score(query_tokens)
        raw = self.scores(query_tokens)
        return raw / np.float32(best) if best > 0 else raw

    def query_tokens(self, query: str) -> list[str]:
        """Tokens of a query string, in the same way rows were tokenized by the index."""
        return text.tokens(query)

    def save(self, directory: str | os.PathLike[str]) -> None:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"rows": self._n_rows, "k1": self.config.k1, "b": self.config.b}
        (folder / "lexical.json").write_text(json.dumps(meta))
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)
        np.save(folder / _STATS_FILE, self._term_max)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> LexicalIndex:
        folder = Path(directory)
        meta = json.loads((folder / "lexical.json").read_text())
        config = LexicalConfig(k1=float(meta["k1"]), b=float(meta["b"]))
        term_max = np.load(folder / _STATS_FILE)
        bm25 = None
        if (folder / "params.index.json").exists():
            logging.getLogger("bm25s").setLevel(logging.WARNING)
            bm25 = bm25s.BM25.load(str(folder), mmap=False, show_progress=False)
        return cls(bm25, int(meta["rows"]), term_max, config)


def _term_max(bm25: bm25s.BM25) -> np.ndarray:
    """For each term id, the highest score any row has for it (the CSC columns are terms)."""
    data = np.asarray(bm25.scores["data"], dtype=np.float32)
    indptr = np.asarray(bm25.scores["indptr"], dtype=np.int64)
    n_terms = len(indptr) - 1
    out = np.zeros(n_terms, dtype=np.float32)
    nonempty = indptr[1:] > indptr[:-1]
    if data.size and nonempty.any():
        out[nonempty] = np.maximum.reduceat(data, indptr[:-1][nonempty])
    return out
