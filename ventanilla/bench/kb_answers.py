"""`ventanilla bench kb-answers`: does the bot answer the questions people really ask, or say so?

Runs each question of `tests/kb/eval.tsv` (one half: `dev` while tuning, `test` to report once)
through what the action server decides before it answers: another agency's question is said to be
that agency's (`knowledge_base.agencies`), otherwise the live index of the published articles
answers above the calibrated confidence or abstains (`knowledge_base.answers.Answers`). Prints
top-1 of answered in-scope questions, in-scope abstentions, out-of-scope questions answered with
an article, answer-or-abstain accuracy, and the latency of a whole question (issue 10's goals:
in-scope right ≥ 90 %, out-of-scope answered ≤ 5 %, p95 ≤ 150 ms).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.settings import get_settings
from knowledge_base import agencies
from knowledge_base.answers import Answers
from knowledge_base.evaluation import EVAL_PATH, Decision, EvalScore, load_eval, score
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


def table(split: str, s: EvalScore, p50: float, p95: float) -> Table:
    out = Table(title=f"Preguntas reales (tests/kb/eval.tsv, mitad {split})")
    out.add_column("medida")
    out.add_column("valor", justify="right")
    out.add_column("meta", justify="right")
    out.add_row(
        "en alcance: artículo correcto",
        f"{pct(s.in_scope_right)} ({s.right}/{s.in_scope})",
        "≥ 90 %",
    )
    out.add_row(
        "top-1 de las respondidas", f"{pct(s.top1_of_answered)} ({s.right}/{s.answered})", ""
    )
    out.add_row("en alcance: se abstuvo", f"{pct(s.abstention_rate)} ({s.abstained})", "")
    out.add_row("en alcance: preguntó «¿Te refieres a A o a B?»", str(s.asked), "")
    out.add_row(
        "fuera de alcance respondidas con artículo",
        f"{pct(s.out_answered_rate)} ({s.out_answered}/{s.out_of_scope})",
        "≤ 5 %",
    )
    out.add_row("fuera de alcance: se dijo a quién le toca", str(s.out_said_whose), "")
    out.add_row("responder o abstenerse: exactitud", pct(s.accuracy), "")
    out.add_row("latencia por pregunta p50 / p95", f"{p50:.0f} / {p95:.0f} ms", "p95 ≤ 150 ms")
    return out


@bench_app.command("kb-answers")
def bench_kb_answers(
    split: Annotated[str, typer.Option(help="dev while tuning; test to report, once.")] = "dev",
    questions_file: Annotated[Path, typer.Option("--questions")] = EVAL_PATH,
    out: Annotated[Path | None, typer.Option(help="Folder for results.json.")] = None,
) -> None:
    """Right answers, abstentions and wrong answers on questions as people type them."""
    if split not in ("dev", "test"):
        raise typer.BadParameter("usa dev o test", param_hint="--split")
    settings = get_settings()
    answers = Answers(settings)
    if not answers.available():
        raise typer.BadParameter("no hay índice: corre `ventanilla kb sync` primero")
    questions = [q for q in load_eval(questions_file) if q.split == split]
    decide(answers, "calentamiento")  # load the index and the embedder once
    decisions, times = [], []
    for question in questions:
        started = time.perf_counter()
        decisions.append(decide(answers, question.question))
        times.append((time.perf_counter() - started) * 1000)
    result = score(questions, decisions)
    p50, p95 = percentile(times, 50), percentile(times, 95)
    console = Console()
    console.print(table(split, result, p50, p95))
    wrong = [
        (q.question, q.expected_article or f"out:{q.out_of_scope}", " | ".join(d.offered))
        for q, d in zip(questions, decisions, strict=True)
        if d.offered and q.expected_article not in d.offered
    ]
    for question, expected, got in wrong[:25]:
        console.print(f"[red]respuesta equivocada[/]: {question} → {got} (esperado {expected})")
    folder = out or settings.var_dir / "bench" / "kb-answers"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"results-{split}.json").write_text(
        json.dumps(
            {
                "split": split,
                "score": result.__dict__,
                "p50_ms": p50,
                "p95_ms": p95,
                "wrong": wrong,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
