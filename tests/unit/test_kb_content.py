"""Article files: what is accepted, and how a broken one is reported (file, line, reason)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.content import (
    SHORT_ANSWER_MAX,
    BatchError,
    parse_markdown,
    read_batch,
    to_markdown,
)

GOOD = """---
id: vigencia
title: "Consultar tu vigencia"
campaign: derechohabiente
questions:
  - "sigo vigente?"
  - "constancia de vigencia"
short_answer: "Pide tu constancia de vigencia en la página del IMSS con tu CURP y tu NSS."
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
        (GOOD.replace("status: published", "status: listo"), 10, "«status»: valor no permitido"),
        (GOOD.replace("id: vigencia", "id: Vigencia Nueva"), 2, "«id»: debe ser kebab-case"),
        (
            GOOD.replace('short_answer: "Pide', 'short_answer: "**Pide**'),
            8,
            "«short_answer»: debe ser texto simple, sin Markdown",
        ),
        (
            GOOD.replace('short_answer: "Pide', f'short_answer: "{"x" * 290} Pide'),
            8,
            "«short_answer»: tiene 365 caracteres; el máximo es 300",
        ),
        (
            GOOD.replace('source: "IMSS"', 'source: "IMSS; notas de dominio del proyecto"'),
            9,
            "«source»: la fuente se muestra a las personas",
        ),
    ],
)
def test_a_broken_article_is_reported_with_its_line(text: str, line: int, words: str) -> None:
    with pytest.raises(BatchError) as broken:
        parse_markdown("roto.md", text)
    problem = broken.value.problems[0]
    assert problem.path == "roto.md" and problem.line == line and words in problem.message


def test_a_published_article_needs_a_short_answer_and_a_draft_does_not() -> None:
    without = "\n".join(line for line in GOOD.splitlines() if not line.startswith("short_answer"))
    with pytest.raises(BatchError) as broken:
        parse_markdown("sin-corta.md", without)
    problem = broken.value.problems[0]
    assert problem.line == 9 and "«short_answer»: falta la respuesta corta" in problem.message
    draft = parse_markdown("borrador.md", without.replace("status: published", "status: draft"))
    assert draft.short_answer is None


@pytest.mark.parametrize(
    "source",
    [
        "Notas de dominio del proyecto: la línea agenda citas",
        "Protocolo de orientación COVID-19 del proyecto (versión covid-2020.1)",
        "Ventanilla, textos del asistente (bot/domain.yml: utter_welcome)",
        "config/sources.yml",
        "Práctica de las UMF; pendiente de confirmar con el IMSS",
        "Campaña «Denuncias» del centro de contacto",
    ],
)
def test_a_source_naming_internal_notes_is_refused_even_in_a_draft(source: str) -> None:
    text = GOOD.replace('source: "IMSS"', f'source: "{source}"')
    with pytest.raises(BatchError, match="«source»: la fuente se muestra a las personas"):
        parse_markdown("interna.md", text.replace("status: published", "status: draft"))


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
        "question,answer,short_answer,campaign,status\n"
        "¿Qué es el NSS?,Tu número **de 11 dígitos**.,Tu número de 11 dígitos en el IMSS.,"
        "derechohabiente,published\n"
        "¿Y la CURP?,La da el Registro Nacional de Población.,,derechohabiente,\n",
    )
    write(
        tmp_path,
        "pares.json",
        '[{"question": "¿Dónde pago?", "answer": "En el banco.", "id": "pago",'
        ' "short_answer": "Paga en el banco con tu línea de captura."}]',
    )
    articles = {a.id: a for a in read_batch([tmp_path])}
    assert set(articles) == {"que-es-el-nss", "y-la-curp", "pago"}
    assert (
        articles["pago"].questions == ["¿Dónde pago?"] and articles["pago"].body == "En el banco."
    )
    assert articles["pago"].short_answer == "Paga en el banco con tu línea de captura."
    assert articles["que-es-el-nss"].short_answer == "Tu número de 11 dígitos en el IMSS."
    assert articles["que-es-el-nss"].status == "published"
    assert articles["y-la-curp"].short_answer is None  # a draft may lack it


def test_question_answer_pairs_are_checked_like_articles(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pares.csv",
        "question,answer,status,source\n"
        "¿Qué es el NSS?,Tu número.,published,IMSS\n"
        "¿Y la CURP?,La da RENAPO.,draft,bot/domain.yml\n",
    )
    write(
        tmp_path,
        "pares.json",
        f'[{{"question": "¿Dónde pago?", "answer": "En el banco.", "short_answer": "'
        f'{"a" * (SHORT_ANSWER_MAX + 1)}"}}]',
    )
    with pytest.raises(BatchError) as broken:
        read_batch([tmp_path])
    text = str(broken.value)
    assert "pares.csv:2: «short_answer»: falta la respuesta corta" in text
    assert "pares.csv:3: «source»: la fuente se muestra a las personas" in text
    assert "pares.json (elemento 1): «short_answer»: tiene 301 caracteres" in text


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


def test_every_shipped_article_has_a_plain_short_answer_and_a_public_source() -> None:
    articles = read_batch([Path(__file__).resolve().parents[2] / "knowledge_base" / "articles"])
    assert articles and all(a.short_answer for a in articles), [
        a.id for a in articles if not a.short_answer
    ]
    for article in articles:
        short = article.short_answer or ""
        assert len(short) <= SHORT_ANSWER_MAX, (article.id, len(short))
        assert "*" not in short and "_" not in short and "#" not in short, article.id
        assert len(short) >= 80, article.id  # an answer a person can act on, not a title
        for internal in (
            "notas de dominio",
            "del proyecto",
            "bot/",
            ".yml",
            "pendiente de confirmar",
        ):
            assert internal not in article.source.lower(), (article.id, article.source)
