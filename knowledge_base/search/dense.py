"""The dense side: FAISS inner-product indexes over unit vectors (inner product = cosine).

Below ``hnsw_threshold`` vectors the index is exact (``IndexFlatIP``: every vector is scored);
from that size on it is approximate (``IndexHNSWFlat`` with ``METRIC_INNER_PRODUCT``), a graph
search whose cost grows with log(n); ``ef_search`` trades recall for time.

The default threshold is high on purpose. Measured on 2 cores (`ventanilla bench kb`, scale
part): one exact query over 100,000 vectors of 384 dimensions takes ~9 ms (p95), well inside
the latency budget, while HNSW costs ~15–25 s of build per 100,000 vectors on every rebuild
and returns approximate neighbours (recall@10 1.000 on low-rank synthetic vectors like real
embeddings, but 0.24 on isotropic noise). A knowledge base of a few thousand chunks never
needs it; set ``hnsw_threshold`` lower to use it sooner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

__all__ = ["DenseConfig", "DenseIndex"]

# Searches of fewer queries than this run on one thread.
_PARALLEL_FROM = 8


@dataclass(frozen=True)
class DenseConfig:
    """When to switch to HNSW and how to build it."""

    hnsw_threshold: int = 200_000
    hnsw_m: int = 32
    ef_construction: int = 40
    ef_search: int = 128


class DenseIndex:
    """Vectors in, (scores, row numbers) out. Rows are numbered in the order they were added."""

    def __init__(self, index: faiss.Index, config: DenseConfig) -> None:
        self.index = index
        self.config = config
        if self.is_hnsw:
            faiss.downcast_index(index).hnsw.efSearch = config.ef_search

    @classmethod
    def build(
        cls, vectors: np.ndarray, config: DenseConfig | None = None, dim: int | None = None
    ) -> DenseIndex:
        """An index over ``vectors`` (n, dim), exact below ``hnsw_threshold`` rows, else HNSW."""
        config = config or DenseConfig()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            if dim is None or vectors.size:
                raise ValueError("vectors must be a 2-D array (n, dim)")
            vectors = vectors.reshape(0, dim)
        d = vectors.shape[1]
        if len(vectors) >= config.hnsw_threshold:
            index: faiss.Index = faiss.IndexHNSWFlat(d, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = config.ef_construction
        else:
            index = faiss.IndexFlatIP(d)
        if len(vectors):
            index.add(vectors)
        return cls(index, config)

    @property
    def is_hnsw(self) -> bool:
        return isinstance(faiss.downcast_index(self.index), faiss.IndexHNSW)

    @property
    def kind(self) -> str:
        return "hnsw" if self.is_hnsw else "flat"

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` inner products per query row: (scores, rows), both (nq, k'); k' ≤ k."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if k <= 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if len(queries) >= _PARALLEL_FROM:
            return self.index.search(queries, k)
        # One query does not pay for waking OpenMP threads: on 2 busy cores a single-threaded
        # exact search over 20,000 rows takes ~1 ms against 3–20 ms with two threads. FAISS has
        # its own OpenMP runtime and the setting is per calling thread, so this touches nothing
        # else (the embedder's threads included).
        previous = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self.index.search(queries, k)
        finally:
            faiss.omp_set_num_threads(previous)

    def scores_of(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact inner products of one query vector with the stored vectors at ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        vectors = self.index.reconstruct_batch(rows)
        return vectors @ np.asarray(query, dtype=np.float32).reshape(-1)

    def vectors(self) -> np.ndarray:
        """All stored vectors, (n, dim) float32 (a copy)."""
        if not len(self):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_n(0, len(self))

    def memory_bytes(self) -> int:
        """Size of the serialized index: the vectors plus, for HNSW, the graph."""
        return int(faiss.serialize_index(self.index).nbytes)

    def save(self, path: str | os.PathLike[str]) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: str | os.PathLike[str], config: DenseConfig | None = None) -> DenseIndex:
        return cls(faiss.read_index(str(Path(path))), config or DenseConfig())
