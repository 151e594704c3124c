"""`ventanilla bench handoff`: how long each step of a handoff takes, end to end.

Per round a new web chat visitor asks for a person and an agent (API) takes it:

* request → the user reads their place in the queue (a bot turn that ends in the queue);
* claim (the agent's POST);
* agent's reply → it arrives on the user's socket (through the bus: in-process or Redis);
* user's message in human mode → acknowledged and stored for the agent (no Rasa);
* close → the bot's survey arrives on the user's socket (Rasa resumed, action run).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from connectors.webchat.client import ChatClient, bot_texts
from core.settings import get_settings
from ventanilla.bench import bench_app
from ventanilla.bench.stats import percentile
from ventanilla.launcher import create_account, start_system, stop_system

AGENT = "bench.agente"
PASSWORD = "contraseña-de-bench-1"
STEPS = {
    "request": "pedir persona → lugar en la fila",
    "claim": "tomar (POST claim)",
    "agent_reply": "respuesta del agente → socket del usuario",
    "user_message": "mensaje del usuario → guardado para el agente",
    "close": "cerrar → encuesta en el socket",
}


def _wait_for(chat: ChatClient, match: Any) -> None:
    while not match(chat.receive()):
        pass


def run_round(base_url: str, ws_url: str, headers: dict[str, str]) -> dict[str, float]:
    timings: dict[str, float] = {}
    chat = ChatClient(ws_url)
    chat.turn("hola")

    started = time.perf_counter()
    texts = bot_texts(chat.turn("quiero hablar con una persona"))
    timings["request"] = time.perf_counter() - started
    if not texts or "lugar" not in texts[-1]:
        raise typer.BadParameter(f"the user was not queued: {texts}")

    queue = httpx.get(f"{base_url}/api/handoff/queue", headers=headers).json()
    entry = next(e for e in queue if e["channel"] == "webchat")

    def act(action: str, body: dict[str, str] | None = None) -> None:
        url = f"{base_url}/api/handoff/conversations/{entry['id']}/{action}"
        httpx.post(url, headers=headers, json=body).raise_for_status()

    started = time.perf_counter()
    act("claim")
    timings["claim"] = time.perf_counter() - started
    _wait_for(chat, lambda f: f["type"] == "message" and "Ya te atiende" in f["text"])

    started = time.perf_counter()
    act("messages", {"text": "Hola, ¿en qué te ayudo?"})
    _wait_for(chat, lambda f: f.get("from") == "agent")
    timings["agent_reply"] = time.perf_counter() - started

    started = time.perf_counter()
    chat.turn("Quiero saber si sigo vigente")
    timings["user_message"] = time.perf_counter() - started

    started = time.perf_counter()
    act("close", {"disposition": "resuelto"})
    _wait_for(chat, lambda f: f["type"] == "message" and bool(f["buttons"]))
    timings["close"] = time.perf_counter() - started
    chat.close()
    return {step: seconds * 1000 for step, seconds in timings.items()}


@bench_app.command("handoff")
def bench_handoff(
    rounds: Annotated[int, typer.Option(help="Handoffs to time, one visitor each.")] = 30,
    warmup: Annotated[int, typer.Option(help="Untimed rounds first.")] = 3,
    database_url: Annotated[
        str, typer.Option(help="Application database (default: a new SQLite file).")
    ] = "",
    redis_url: Annotated[str, typer.Option(help="Redis for the bus (default: in-process).")] = "",
    out: Annotated[
        Path | None, typer.Option(help="Folder for results.json (default var/bench/handoff).")
    ] = None,
) -> None:
    """Median and p95 of each step of a handoff against the real system."""
    console = Console()
    overrides = {"VENTANILLA_HANDOFF_TICK_SECONDS": "0.5"}
    if database_url:
        overrides["VENTANILLA_DATABASE_URL"] = database_url
    if redis_url:
        overrides["VENTANILLA_REDIS_URL"] = redis_url
    console.print("Iniciando el sistema en puertos libres…")
    running = start_system(Path(tempfile.mkdtemp(prefix="ventanilla-bench-")), **overrides)
    try:
        create_account(running, AGENT, "agent", ["derechohabiente"], PASSWORD)
        login = httpx.post(
            f"{running.base_url}/api/auth/login", json={"username": AGENT, "password": PASSWORD}
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        for _ in range(warmup):
            run_round(running.base_url, running.ws_url, headers)
        results = [
            run_round(running.base_url, running.ws_url, headers)
            for _ in track(range(rounds), description="Derivaciones…")
        ]
    finally:
        stop_system(running)

    backend = (
        f"{'PostgreSQL' if database_url else 'SQLite'} + {'Redis' if redis_url else 'bus local'}"
    )
    table = Table(title=f"Derivación a una persona, {rounds} rondas ({backend})")
    for column in ["paso", "mediana ms", "p95 ms", "máx ms"]:
        table.add_column(column, justify="left" if column == "paso" else "right")
    summary: dict[str, dict[str, float]] = {}
    for step, label in STEPS.items():
        values = [r[step] for r in results]
        summary[step] = {
            "median_ms": statistics.median(values),
            "p95_ms": percentile(values, 95),
            "max_ms": max(values),
        }
        table.add_row(
            label,
            f"{summary[step]['median_ms']:.0f}",
            f"{summary[step]['p95_ms']:.0f}",
            f"{summary[step]['max_ms']:.0f}",
        )
    console.print(table)
    folder = out or get_settings().var_dir / "bench" / "handoff"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps({"backend": backend, **summary}, indent=2))
