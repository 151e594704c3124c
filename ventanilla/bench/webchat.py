"""`ventanilla bench webchat`: turn latency over the web chat WebSocket, end to end.

A turn is timed from sending the message to the bot's last reply of that turn (typing off):
gateway → Rasa (NLU + policies) → action server when needed → gateway → socket.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from connectors.webchat.client import ChatClient, bot_texts
from core.settings import get_settings
from ventanilla.bench import bench_app
from ventanilla.bench.stats import percentile
from ventanilla.launcher import start_system, stop_system

# A realistic mix: menu intents, a custom action (fallback), greetings and small talk.
MESSAGES = [
    "hola",
    "quiero sacar una cita con mi médico familiar",
    "tengo fiebre y tos desde ayer",
    "¿eres un robot?",
    "muchas gracias",
    "menú",
    "quiero hablar con una persona",
    "¿cómo saco mi número de seguridad social?",
    "Ninguna de estas",
    "adiós",
]
PAYLOADS = {"Ninguna de estas": "/nlu_fallback"}


def run_turns(ws_url: str, turns: int, per_session: int) -> list[tuple[str, float]]:
    timings: list[tuple[str, float]] = []
    chat: ChatClient | None = None
    for i in track(range(turns), description="Turnos por el web chat…"):
        if chat is None or i % per_session == 0:
            if chat is not None:
                chat.close()
            chat = ChatClient(ws_url)
        text = MESSAGES[i % len(MESSAGES)]
        started = time.perf_counter()
        frames = chat.turn(text, payload=PAYLOADS.get(text))
        elapsed = time.perf_counter() - started
        if not bot_texts(frames):
            raise typer.BadParameter(f"turn {i} ({text!r}) got no bot reply: {frames}")
        timings.append((text, elapsed * 1000))
    if chat is not None:
        chat.close()
    return timings


@bench_app.command("webchat")
def bench_webchat(
    turns: Annotated[int, typer.Option(help="How many timed turns.")] = 200,
    per_session: Annotated[
        int, typer.Option(help="Turns per web chat session (then a new visitor).")
    ] = 10,
    warmup: Annotated[int, typer.Option(help="Untimed turns first (model and caches warm).")] = 10,
    url: Annotated[
        str, typer.Option(help="Base URL of a running system; by default one is started.")
    ] = "",
    out: Annotated[
        Path | None, typer.Option(help="Folder for results.json (default var/bench/webchat).")
    ] = None,
) -> None:
    """Median and p95 latency of web chat turns against the real system."""
    console = Console()
    running = None
    if url:
        ws_url = url.rstrip("/").replace("http", "ws", 1) + "/webchat/ws"
    else:
        console.print("Iniciando el sistema en puertos libres…")
        running = start_system(Path(tempfile.mkdtemp(prefix="ventanilla-bench-")))
        ws_url = running.ws_url
    try:
        run_turns(ws_url, warmup, per_session)
        timings = run_turns(ws_url, turns, per_session)
    finally:
        if running is not None:
            stop_system(running)

    values = [ms for _, ms in timings]
    summary = {
        "turns": len(values),
        "median_ms": statistics.median(values),
        "p95_ms": percentile(values, 95),
        "p99_ms": percentile(values, 99),
        "mean_ms": statistics.fmean(values),
        "min_ms": min(values),
        "max_ms": max(values),
    }
    table = Table(title=f"Latencia de turnos por el web chat ({len(values)} turnos)")
    for column in ["mensaje", "turnos", "mediana ms", "p95 ms"]:
        table.add_column(column, justify="right" if column != "mensaje" else "left")
    for text in MESSAGES:
        these = [ms for t, ms in timings if t == text]
        if these:
            table.add_row(
                text,
                str(len(these)),
                f"{statistics.median(these):.0f}",
                f"{percentile(these, 95):.0f}",
            )
    table.add_row(
        "[b]todos[/b]",
        str(len(values)),
        f"[b]{summary['median_ms']:.0f}[/b]",
        f"[b]{summary['p95_ms']:.0f}[/b]",
    )
    console.print(table)
    console.print(
        f"media {summary['mean_ms']:.0f} ms · p99 {summary['p99_ms']:.0f} ms · "
        f"mín {summary['min_ms']:.0f} ms · máx {summary['max_ms']:.0f} ms"
    )
    folder = out or get_settings().var_dir / "bench" / "webchat"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(summary, indent=2))
