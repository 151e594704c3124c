"""`ventanilla bench emergency`: does the product catch emergencies, and only them?

On the labelled phrase set (tests/emergency/phrases.tsv: kind or "-", dev or test half), three
readings of every phrase:

* **capa**: the safety layer alone (triage/emergencies.py `detect`), what the gateway does before
  the bot sees a message;
* **capa + clasificador**: `judge` with the trained model's intent and confidence (Rasa's
  `Agent.parse_message`, ventanilla/bench/rasa_predict.py), what the action server adds;
* **REST, de punta a punta**: each phrase sent as a new person to the REST channel of a whole
  running system (gateway, Rasa, action server); an emergency is an answer with `"alert"`.

Recall counts an emergency caught (whatever kind), "tipo correcto" the right kind as well; a false
alarm is an ordinary message answered as an emergency. Goals: recall 100 %, false alarms ≤ 5 %.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from core.settings import get_settings
from triage.emergencies import detect, judge
from ventanilla.bench import bench_app
from ventanilla.bench.nlu import predict
from ventanilla.bench.stats import percentile
from ventanilla.launcher import start_system, stop_system
from ventanilla.training import ensure_model

PHRASES = Path(__file__).resolve().parents[2] / "tests" / "emergency" / "phrases.tsv"
ORDINARY = "-"


@dataclass(frozen=True)
class Phrase:
    kind: str  # an EmergencyKind, or "-"
    split: str
    text: str


def load_phrases(path: Path = PHRASES) -> list[Phrase]:
    lines = [
        line.rstrip("\n")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    phrases = []
    for number, line in enumerate(lines[1:], start=2):
        parts = line.split("\t")
        if len(parts) != 3:
            raise typer.BadParameter(f"{path}, línea {number}: se esperaban 3 columnas")
        phrases.append(Phrase(*parts))
    return phrases


@dataclass(frozen=True)
class Score:
    emergencies: int
    caught: int
    right_kind: int
    ordinary: int
    false_alarms: int
    missed: tuple[str, ...]
    alarmed: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.caught / self.emergencies if self.emergencies else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.ordinary if self.ordinary else 0.0


def score(phrases: Sequence[Phrase], found: Sequence[str | None]) -> Score:
    """`found[i]`: the kind read in phrases[i], or None."""
    pairs = list(zip(phrases, found, strict=True))
    emergencies = [(p, f) for p, f in pairs if p.kind != ORDINARY]
    ordinary = [(p, f) for p, f in pairs if p.kind == ORDINARY]
    return Score(
        emergencies=len(emergencies),
        caught=sum(f is not None for _, f in emergencies),
        right_kind=sum(f == p.kind for p, f in emergencies),
        ordinary=len(ordinary),
        false_alarms=sum(f is not None for _, f in ordinary),
        missed=tuple(p.text for p, f in emergencies if f is None),
        alarmed=tuple(f"{p.text} → {f}" for p, f in ordinary if f is not None),
    )


def through_rest(base_url: str, phrases: Sequence[Phrase], api_key: str = "") -> list[str | None]:
    """Each phrase as a new person's first message to the REST channel; the alert's kind."""
    headers = {"X-API-Key": api_key} if api_key else {}
    found: list[str | None] = []
    with httpx.Client(base_url=base_url, timeout=120, headers=headers) as client:
        for phrase in phrases:
            response = client.post(
                "/api/messages",
                json={"sender": f"bench-{uuid.uuid4().hex[:12]}", "text": phrase.text},
            )
            response.raise_for_status()
            alert = response.json().get("alert")
            found.append(alert["kind"] if alert else None)
    return found


def classifier_readings(
    phrases: Sequence[Phrase], workdir: Path, progress: Progress
) -> list[tuple[str, float]]:
    settings = get_settings()
    result = predict(
        settings.rasa_venv,
        ensure_model(settings=settings),
        [p.text for p in phrases],
        workdir,
        "emergency",
        workdir,
        progress,
        "Clasificador de intenciones",
    )
    return [(p["intent"], float(p["confidence"])) for p in result["predictions"]]


def layer_cost(phrases: Sequence[Phrase], rounds: int = 5) -> tuple[float, float]:
    """Microseconds the safety layer takes per message: median and p95 over `rounds` passes."""
    times = []
    for _ in range(rounds):
        for phrase in phrases:
            started = time.perf_counter()
            detect(phrase.text)
            times.append((time.perf_counter() - started) * 1e6)
    return percentile(times, 50), percentile(times, 95)


def pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def report(console: Console, rows: list[tuple[str, str, Score]]) -> None:
    table = Table(title="Emergencias: recall y falsas alarmas (tests/emergency/phrases.tsv)")
    for column in (
        "lectura",
        "mitad",
        "emergencias",
        "recall",
        "tipo correcto",
        "ordinarios",
        "falsas alarmas",
    ):
        table.add_column(column, justify="left" if column in ("lectura", "mitad") else "right")
    for reading, split, s in rows:
        table.add_row(
            reading,
            split,
            str(s.emergencies),
            f"{pct(s.recall)} ({s.caught})",
            pct(s.right_kind / s.emergencies if s.emergencies else 1.0),
            str(s.ordinary),
            f"{pct(s.false_alarm_rate)} ({s.false_alarms})",
        )
    console.print(table)
    for reading, split, s in rows:
        for text in s.missed:
            console.print(f"[red]no detectada[/] ({reading}, {split}): {text}")
        for text in s.alarmed:
            console.print(f"[yellow]falsa alarma[/] ({reading}, {split}): {text}")


def by_split(
    reading: str, phrases: Sequence[Phrase], found: Sequence[str | None]
) -> list[tuple[str, str, Score]]:
    rows = []
    for split in ("dev", "test"):
        index = [i for i, p in enumerate(phrases) if p.split == split]
        rows.append((reading, split, score([phrases[i] for i in index], [found[i] for i in index])))
    return rows


@bench_app.command("emergency")
def bench_emergency(
    phrases_file: Annotated[
        Path, typer.Option("--phrases", help="Frases etiquetadas (kind, split, text).")
    ] = PHRASES,
    classifier: Annotated[
        bool, typer.Option(help="También con el clasificador del modelo entrenado.")
    ] = True,
    end_to_end: Annotated[
        bool, typer.Option(help="También por el canal REST de un sistema completo en marcha.")
    ] = True,
    url: Annotated[
        str, typer.Option(help="Un sistema ya en marcha (si no, se inicia uno en puertos libres).")
    ] = "",
    api_key: Annotated[str, typer.Option(help="Clave del canal REST de ese sistema.")] = "",
    out: Annotated[Path | None, typer.Option(help="Carpeta para results.json.")] = None,
) -> None:
    """Recall and false alarms of the emergency detection: layer, with classifier, end to end."""
    console = Console()
    phrases = load_phrases(phrases_file)
    readings: dict[str, list[str | None]] = {
        "capa": [str(k) if (k := detect(p.text).kind) else None for p in phrases]
    }
    if classifier:
        with Progress(console=console, transient=True) as progress:
            predicted = classifier_readings(phrases, Path(tempfile.mkdtemp()), progress)
        readings["capa + clasificador"] = [
            str(k) if (k := judge(p.text, intent, confidence)) else None
            for p, (intent, confidence) in zip(phrases, predicted, strict=True)
        ]
    if end_to_end:
        readings["REST, de punta a punta"] = run_end_to_end(console, phrases, url, api_key)
    rows = [row for name, found in readings.items() for row in by_split(name, phrases, found)]
    report(console, rows)
    median, p95 = layer_cost(phrases)
    console.print(
        f"Costo de la capa por mensaje (en el proceso del gateway): mediana {median:.0f} µs, "
        f"p95 {p95:.0f} µs"
    )
    folder = out or get_settings().var_dir / "bench" / "emergency"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(
        json.dumps(
            [
                {
                    "reading": r,
                    "split": s,
                    "recall": x.recall,
                    "false_alarms": x.false_alarm_rate,
                    "missed": x.missed,
                    "alarmed": x.alarmed,
                }
                for r, s, x in rows
            ],
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )


def run_end_to_end(
    console: Console,
    phrases: Sequence[Phrase],
    url: str,
    api_key: str,
    send: Callable[[str, Sequence[Phrase], str], list[str | None]] = through_rest,
) -> list[str | None]:
    if url:
        return send(url, phrases, api_key)
    with console.status("Iniciando el sistema en puertos libres…"):
        running = start_system(Path(tempfile.mkdtemp(prefix="ventanilla-bench-")), False)
    try:
        with console.status(f"Enviando {len(phrases)} frases por el canal REST…"):
            return send(running.base_url, phrases, "")
    finally:
        stop_system(running)
