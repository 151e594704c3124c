"""Article files: what is accepted, and how a broken one is reported (file, line, reason)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.content import BatchError, parse_markdown, read_batch, to_markdown

GOOD = """---
id: vigencia
title: "Consultar tu vigencia"
campaign: derechohabiente
questions:
  - "sigo vigente?"
  - "constancia de vigencia"
source: "IMSS"
status: published
tags: [vigencia, 911]
---
Entra a la página del IMSS y pide tu constancia.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_article_round_trips_through_its_file() -> None:
    article = parse_markdown("vigencia.md", GOOD)
    assert article.id == "vigencia" and article.questions == [
        "sigo vigente?",
        "constancia de vigencia",
    ]
    assert article.tags == ["vigencia", "911"]  # a number in tags is text
    assert parse_markdown("again.md", to_markdown(article)) == article


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("id: x\n", 1, "debe empezar con «---»"),
        ("---\nid: a\n", 1, "falta el «---»"),
        ("---\nid: vigencia\ntitle: [sin cerrar\n---\ncuerpo\n", 3, "encabezado YAML no válido"),
        (
            GOOD.replace("campaign: derechohabiente", "campaign: marte"),
            4,
            "«campaign»: campaña desconocida",
        ),
        (GOOD.replace('source: "IMSS"\n', ""), 2, "«source»: falta este campo"),
        (GOOD.replace("status: published", "status: listo"), 9, "«status»: valor no permitido"),
        (GOOD.replace("id: vigencia", "id: Vigencia Nueva"), 2, "«id»: debe ser kebab-case"),
    ],
)
def test_a_broken_article_is_reported_with_its_line(text: str, line: int, words: str) -> None:
    with pytest.raises(BatchError) as broken:
        parse_markdown("roto.md", text)
    problem = broken.value.problems[0]
    assert problem.path == "roto.md" and problem.line == line and words in problem.message


def test_a_batch_with_one_broken_file_gives_nothing_and_names_every_problem(tmp_path: Path) -> None:
    write(tmp_path, "vigencia.md", GOOD)
    write(
        tmp_path,
        "roto.md",
        GOOD.replace("id: vigencia", "id: roto").replace("questions:", "preguntas:"),
    )
    write(
        tmp_path,
        "pares.csv",
        "question,answer\n¿Qué es el NSS?,Tu número de seguridad social.\n,sin pregunta\n",
    )
    write(tmp_path, "README.md", "no es un artículo")
    with pytest.raises(BatchError) as broken:
        read_batch([tmp_path])
    text = str(broken.value)
    assert "roto.md:" in text and "«preguntas»: campo desconocido" in text
    assert "pares.csv:3" in text and "«questions»" in text
    assert "README.md" not in text


def test_question_answer_pairs_from_csv_and_json(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pares.csv",
        "question,answer,campaign\n¿Qué es el NSS?,Tu número.,derechohabiente\n",
    )
    write(
        tmp_path,
        "pares.json",
        '[{"question": "¿Dónde pago?", "answer": "En el banco.", "id": "pago"}]',
    )
    articles = {a.id: a for a in read_batch([tmp_path])}
    assert set(articles) == {"que-es-el-nss", "pago"}
    assert (
        articles["pago"].questions == ["¿Dónde pago?"] and articles["pago"].body == "En el banco."
    )


def test_the_same_id_twice_in_a_batch_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.md", GOOD)
    write(tmp_path, "b.md", GOOD)
    with pytest.raises(BatchError, match="ya está en"):
        read_batch([tmp_path])


def test_the_shipped_articles_are_all_valid() -> None:
    articles = read_batch([Path(__file__).resolve().parents[2] / "knowledge_base" / "articles"])
    published = [a for a in articles if a.status == "published"]
    assert len(published) >= 80
    assert all(len(a.questions) >= 3 for a in published)
