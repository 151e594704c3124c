"""The data loaders and metrics of `ventanilla bench kb` (no model, no index)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge_base.search import Document, FusionParams
from ventanilla.bench.kb import (
    Scored,
    article_folds,
    choose_fusion,
    dense_ranker,
    fusion_ranker,
    lexical_ranker,
    load_articles,
    load_mallard_help,
    load_xquad,
    rank_metrics,
)


def test_load_articles_reads_front_matter(tmp_path: Path) -> None:
    (tmp_path / "cita.md").write_text(
        "---\nid: cita\ntitle: Sacar cita\ncampaign: cita_medica\nquestions:\n"
        '  - "como saco cita"\n  - "quiero una consulta"\nsource: IMSS\n---\n'
        "Entra a la página.\n",
        encoding="utf-8",
    )
    (tmp_path / "sin-id.md").write_text("---\ntitle: Otro\n---\nTexto.\n", encoding="utf-8")
    (tmp_path / "roto.md").write_text("sin front matter", encoding="utf-8")
    docs = load_articles(tmp_path)
    assert [d.id for d in docs] == ["cita", "sin-id"]
    assert docs[0] == Document(
        id="cita",
        title="Sacar cita",
        body="Entra a la página.",
        questions=["como saco cita", "quiero una consulta"],
        campaign="cita_medica",
        source="IMSS",
    )


def test_article_folds_hold_out_one_question_each() -> None:
    docs = [
        Document(id="a", title="A", body="", questions=["a1", "a2", "a3"]),
        Document(id="b", title="B", body="", questions=["b1", "b2"]),
        Document(id="c", title="C", body="", questions=["c1"]),  # one question: never a query
    ]
    folds = article_folds(docs)
    assert [f.queries for f in folds] == [
        [("a1", "a"), ("b1", "b")],
        [("a2", "a"), ("b2", "b")],
        [("a3", "a")],
    ]
    first = {d.id: d.questions for d in folds[0].documents}
    assert first == {"a": ["a2", "a3"], "b": ["b2"], "c": ["c1"]}
    assert len(article_folds(docs, max_folds=1)) == 1


def test_load_xquad(tmp_path: Path) -> None:
    data = {
        "data": [
            {
                "paragraphs": [
                    {"context": "\ufeffUno.", "qas": [{"question": "¿1?"}, {"question": "¿2?"}]},
                    {"context": "Dos.", "qas": [{"question": "¿3?"}]},
                ]
            }
        ]
    }
    path = tmp_path / "x.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    full = load_xquad(path)
    assert [d.body for d in full.documents] == ["Uno.", "Dos."]
    assert full.queries == [("¿1?", "xquad-0"), ("¿2?", "xquad-0"), ("¿3?", "xquad-1")]
    assert len(load_xquad(path, limit_paragraphs=1).queries) == 2


def test_load_mallard_help(tmp_path: Path) -> None:
    page = """<?xml version="1.0" encoding="utf-8"?>
<page xmlns="http://projectmallard.org/1.0/" type="topic" id="user-changepassword">
  <info><desc>Mantenga su cuenta segura cambiando su contraseña a menudo.</desc></info>
  <title>Cambiar su contraseña</title>
  <p>Es una buena idea cambiar su contraseña de vez en cuando, especialmente si piensa que
  alguien más la conoce o la ha visto al escribirla.</p>
  <steps><item><p>Abra la configuración de usuarios.</p></item></steps>
</page>"""
    (tmp_path / "gnome-help").mkdir()
    (tmp_path / "gnome-help" / "user-changepassword.page").write_text(page, encoding="utf-8")
    english = page.replace("Mantenga su cuenta", "Keep your account safe and").replace(
        'id="user-changepassword"', 'id="en"'
    )
    (tmp_path / "gnome-help" / "en.page").write_text(english, encoding="utf-8")
    help_set = load_mallard_help(tmp_path)
    assert help_set is not None
    assert help_set.queries == [
        (
            "Mantenga su cuenta segura cambiando su contraseña a menudo.",
            "gnome-help/user-changepassword",
        )
    ]
    assert help_set.documents[0].title == "Cambiar su contraseña"
    assert "Abra la configuración" in help_set.documents[0].body
    assert load_mallard_help(tmp_path / "nada") is None


def test_rank_metrics_and_choose_fusion() -> None:
    rows = [
        # dense right (by a lot), lexical wrong (by a little)
        Scored(dense={0: 0.9, 1: 0.8, 2: 0.1}, lexical={1: 5.0, 0: 4.9, 2: 0.0}, gold=0),
        # dense wrong (by a little), lexical right (by a lot)
        Scored(dense={3: 0.81, 4: 0.80, 7: 0.0}, lexical={4: 9.0, 3: 1.0}, gold=4),
        # gold not among the candidates
        Scored(dense={5: 0.5}, lexical={}, gold=6),
    ]
    dense = rank_metrics(rows, dense_ranker)
    assert (dense.r1, dense.r5, dense.n) == (pytest.approx(1 / 3), pytest.approx(2 / 3), 3)
    assert dense.mrr == pytest.approx((1 + 0.5 + 0) / 3)
    lexical = rank_metrics(rows, lexical_ranker)
    assert lexical.r1 == pytest.approx(1 / 3) and lexical.mrr == pytest.approx(0.5)
    fused = rank_metrics(rows, fusion_ranker(FusionParams("minmax", 0.5)))
    assert fused.r1 == pytest.approx(2 / 3)
    chosen, table = choose_fusion({"toy": rows})
    assert len(table) > 10
    assert rank_metrics(rows, fusion_ranker(chosen)).mrr == max(r["mrr"] for r in table)
