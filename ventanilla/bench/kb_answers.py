"""`ventanilla bench kb-answers`: does the bot answer the questions people really ask, or say so?

Runs each question of `tests/kb/eval.tsv` (one half: `dev` while tuning, `test` to report once)
through what the action server decides before it answers: another agency's question is said to be
that agency's (`knowledge_base.agencies`), otherwise the live index of the published articles
answers above the calibrated confidence or abstains (`knowledge_base.answers.Answers`). Prints,
for the first stage alone and with the second (`knowledge_base.search.rerank`), top-1 of
answered in-scope questions, in-scope abstentions, out-of-scope questions answered with an
article, answer-or-abstain accuracy, and the latency of a whole question (issue 10's goals:
in-scope right ≥ 90 %, out-of-scope answered ≤ 5 %, p95 ≤ 150 ms).

`ventanilla kb bench` runs it on the test half before its XQuAD-es part.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from core.settings import get_settings
from knowledge_base import agencies
from knowledge_base.answers import Answers
from knowledge_base.evaluation import (
    EVAL_PATH,
    SPLITS,
    Decision,
    EvalQuestion,
    EvalScore,
    load_eval,
    score,
)
from ventanilla.bench import bench_app
from ventanilla.bench.stats import percentile


def decide(answers: Answers, question: str) -> Decision:
    agency = agencies.match(question)
    if agency is not None:
        return Decision(agency=agency.id)
    found, _ = answers.best(question)
    if found is None:
        return Decision()
    if found.runner_up is not None:
        return Decision(choices=(found.document.id, found.runner_up.id))
    return Decision(article=found.document.id)


def pct(value: float) -> str:
    return f"{100 * value:.1f} %"


@dataclass(frozen=True)
class EvalRun:
    """One pass of the evaluation set through one way of deciding."""

    score: EvalScore
    decisions: list[Decision]
    p50: float
    p95: float

    def to_dict(self) -> dict[str, Any]:
        return {"score": asdict(self.score), "p50_ms": self.p50, "p95_ms": self.p95}


def evaluate(answers: Answers, questions: list[EvalQuestion]) -> EvalRun:
    """Every question through `decide`, timed one by one (embedding, search, second stage)."""
    decide(answers, "calentamiento")  # load the index and the embedder once
    decisions, times = [], []
    for question in questions:
        started = time.perf_counter()
        decisions.append(decide(answers, question.question))
        times.append((time.perf_counter() - started) * 1000)
    return EvalRun(score(questions, decisions), decisions, percentile(times, 50),
                   percentile(times, 95))  # fmt: skip


def table(split: str, runs: dict[str, EvalRun]) -> Table:
    """The measures of issue 10, one column per way of deciding."""
    out = Table(title=f"Preguntas reales (tests/kb/eval.tsv, mitad {split})")
    out.add_column("medida")
    for name in runs:
        out.add_column(name, justify="right")
    out.add_column("meta", justify="right")
    rows: list[tuple[str, Callable[[EvalRun], str], str]] = [
        (
            "en alcance: artículo correcto",
            lambda r: f"{pct(r.score.in_scope_right)} ({r.score.right}/{r.score.in_scope})",
            "≥ 90 %",
        ),
        (
            "top-1 de las respondidas",
            lambda r: f"{pct(r.score.top1_of_answered)} ({r.score.right}/{r.score.answered})",
            "",
        ),
        (
            "en alcance: se abstuvo",
            lambda r: f"{pct(r.score.abstention_rate)} ({r.score.abstained})",
            "",
        ),
        ("en alcance: preguntó «¿A o B?»", lambda r: str(r.score.asked), ""),
        (
            "fuera de alcance respondidas con artículo",
            lambda r: f"{pct(r.score.out_answered_rate)} "
            f"({r.score.out_answered}/{r.score.out_of_scope})",
            "≤ 5 %",
        ),
        ("fuera de alcance: se dijo a quién le toca", lambda r: str(r.score.out_said_whose), ""),
        ("responder o abstenerse: exactitud", lambda r: pct(r.score.accuracy), ""),
        ("latencia por pregunta p50 / p95", lambda r: f"{r.p50:.0f} / {r.p95:.0f} ms",
         "p95 ≤ 150 ms"),
    ]  # fmt: skip
    for label, cell, goal in rows:
        out.add_row(label, *(cell(run) for run in runs.values()), goal)
    return out


def run_eval(
    split: str = "test", questions_file: Path = EVAL_PATH, console: Console | None = None
) -> dict[str, Any]:
    """The evaluation set's `split` through the live index: the first stage alone, then with the
    second; prints the table and the wrong answers, returns the figures."""
    console = console or Console()
    settings = get_settings()
    answers = Answers(settings)
    if not answers.available():
        raise typer.BadParameter("no hay índice: corre `ventanilla kb sync` primero")
    index = answers.index()
    questions = [q for q in load_eval(questions_file) if q.split == split]
    runs = {"primera etapa": evaluate(Answers(settings, index.first_stage()), questions)}
    if index.classifier is not None:
        runs["con la segunda etapa"] = evaluate(Answers(settings, index), questions)
    console.print(table(split, runs))
    chosen = list(runs.values())[-1]
    wrong = [
        (q.question, q.expected_article or f"out:{q.out_of_scope}", " | ".join(d.offered))
        for q, d in zip(questions, chosen.decisions, strict=True)
        if d.offered and q.expected_article not in d.offered
    ]
    for question, expected, got in wrong[:25]:
        console.print(f"[red]respuesta equivocada[/]: {question} → {got} (esperado {expected})")
    return {
        "split": split,
        "questions": len(questions),
        "threshold": answers.threshold,
        **{name: run.to_dict() for name, run in runs.items()},
        "wrong": wrong,
    }


@bench_app.command("kb-answers")
def bench_kb_answers(
    split: Annotated[str, typer.Option(help="dev while tuning; test to report, once.")] = "dev",
    questions_file: Annotated[Path, typer.Option("--questions")] = EVAL_PATH,
    out: Annotated[Path | None, typer.Option(help="Folder for results.json.")] = None,
) -> None:
    """Right answers, abstentions and wrong answers on questions as people type them."""
    if split not in SPLITS:
        raise typer.BadParameter("usa dev o test", param_hint="--split")
    results = run_eval(split, questions_file)
    folder = out or get_settings().var_dir / "bench" / "kb-answers"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"results-{split}.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8"
    )
