"""`bench kb-answers` / `kb bench`: questions through what the bot decides, both stages."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from core.settings import Settings
from knowledge_base.answers import Answers
from knowledge_base.evaluation import EvalQuestion
from knowledge_base.search import Document, HybridIndex
from ventanilla.bench.kb_answers import evaluate, table

ARTICLES = [
    Document(
        id="cancelar-cita",
        title="Cancelar una cita",
        body="Cancela tu cita en la aplicación o llamando a tu clínica.",
        questions=["como libero mi cita si ya no voy a ir", "ya no puedo ir a mi consulta"],
    ),
    Document(
        id="vacuna-influenza",
        title="Vacuna contra la influenza",
        body="La vacuna contra la influenza se aplica cada año en otoño e invierno.",
        questions=["ya hay vacuna de la gripa", "donde me pongo la vacuna de la influensa"],
    ),
]
QUESTIONS = [
    EvalQuestion("test", "ya hay vacuna de la gripa?", "vacuna-influenza", None),
    EvalQuestion("test", "ya no voy a poder ir a mi consulta", "cancelar-cita", None),
    EvalQuestion("test", "¿cómo tramito mi pasaporte?", None, "sre"),
]


def test_both_stages_are_scored_on_the_same_questions(tmp_path: Path) -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    index = HybridIndex.build(ARTICLES)
    settings = Settings(_env_file=None, var_dir=tmp_path, kb_min_confidence=0.5)
    second = evaluate(Answers(settings, index), QUESTIONS)
    first = evaluate(Answers(settings, index.first_stage()), QUESTIONS)
    for run in (first, second):
        assert run.score.in_scope == 2 and run.score.out_of_scope == 1
        assert run.score.out_answered == 0 and run.score.out_said_whose == 1  # the SRE's
        assert run.p50 <= run.p95
    assert second.score.right == 2
    assert [d.article for d in second.decisions[:2]] == ["vacuna-influenza", "cancelar-cita"]

    console = Console(record=True, width=160)
    console.print(table("test", {"primera etapa": first, "con la segunda etapa": second}))
    text = console.export_text()
    assert "primera etapa" in text and "con la segunda etapa" in text
    assert "100.0 % (2/2)" in text  # in scope right, second stage
    assert "0.0 % (0/1)" in text  # out of scope answered
