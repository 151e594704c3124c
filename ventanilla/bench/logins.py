"""`ventanilla bench logins`: a flood of wrong passwords against a real gateway process while
people chat, with the login throttle on (the defaults) and off (limits too high to reach).

The gateway runs as its own process (uvicorn, SQLite in a temporary folder) with a fake Rasa that
answers at once, so a chat turn measures the gateway itself. Per mode and run: the chat's turn
latency p50/p95 (`POST /api/messages`, several people at once) alone, then again while
`--attempts` wrong sign-ins arrive at `--rate` per second for one account; the sign-ins' answers
by status (401 checked, 429 throttled, 5xx) and how many were answered per second. What the
throttle buys: after a few failures the rest are refused without running argon2.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from core.settings import PROJECT_ROOT
from ventanilla.bench import bench_app
from ventanilla.bench.channels import gateway
from ventanilla.bench.stats import percentile
from ventanilla.fakes.loopback import serve
from ventanilla.fakes.rasa import FakeRasa

PASSWORD = "contraseña-de-banco-1"
OFF = {  # limits no flood of this bench reaches: the throttle as if absent
    "VENTANILLA_LOGIN_FAILURES_PER_ACCOUNT": "1000000",
    "VENTANILLA_LOGIN_FAILURES_PER_ADDRESS": "1000000",
}


@dataclass
class Run:
    quiet_p50: float
    quiet_p95: float
    flood_p50: float
    flood_p95: float
    statuses: Counter[int]
    logins_per_second: float


async def _chat(url: str, people: int, turns: int, tag: str) -> list[float]:
    """`people` senders, each sending `turns` messages one after the other: latencies in ms."""
    latencies: list[float] = []

    async def person(client: httpx.AsyncClient, n: int) -> None:
        for k in range(turns):
            started = time.perf_counter()
            response = await client.post(
                "/api/messages", json={"sender": f"{tag}-{n}", "text": f"hola {k}"}
            )
            response.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await asyncio.gather(*(person(client, n) for n in range(people)))
    return latencies


async def _flood(url: str, attempts: int, rate: float) -> tuple[Counter[int], float]:
    statuses: Counter[int] = Counter()

    async def attempt(client: httpx.AsyncClient, k: int) -> None:
        await asyncio.sleep(k / rate)
        body = {"username": "banco.agente", "password": f"equivocada-{k}"}
        try:
            response = await client.post("/api/auth/login", json=body)
            statuses[response.status_code] += 1
        except httpx.HTTPError:
            statuses[0] += 1  # no answer at all

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await asyncio.gather(*(attempt(client, k) for k in range(attempts)))
    return statuses, attempts / (time.perf_counter() - started)


async def _run(url: str, attempts: int, rate: float, people: int, turns: int, run: int) -> Run:
    quiet = await _chat(url, people, turns, f"quieta{run}")
    chat = asyncio.ensure_future(_chat(url, people, turns, f"ruido{run}"))
    statuses, per_second = await _flood(url, attempts, rate)
    flood = await chat
    return Run(
        percentile(quiet, 50), percentile(quiet, 95), percentile(flood, 50),
        percentile(flood, 95), statuses, per_second,
    )  # fmt: skip


def _account(var_dir: Path) -> None:
    """The account the flood guesses at, made by the real CLI (it migrates the database)."""
    subprocess.run(
        [sys.executable, "-m", "ventanilla.cli", "users", "create", "banco.agente", "--role",
         "agent", "--campaign", "cita_medica", "--password-stdin"],
        input=PASSWORD + "\n", text=True, capture_output=True, check=True, cwd=PROJECT_ROOT,
        env={**os.environ, "VENTANILLA_VAR_DIR": str(var_dir)},
    )  # fmt: skip


def _pair(results: list[Run], low: str, high: str) -> str:
    """ "p50 / p95" of two fields, medians over the runs."""
    lows = statistics.median(getattr(r, low) for r in results)
    return f"{lows:.0f} / {statistics.median(getattr(r, high) for r in results):.0f}"


@bench_app.command("logins")
def bench_logins(
    attempts: Annotated[int, typer.Option(help="Wrong sign-ins per run.")] = 100,
    rate: Annotated[float, typer.Option(help="Sign-ins per second.")] = 20.0,
    people: Annotated[int, typer.Option(help="People chatting meanwhile.")] = 5,
    turns: Annotated[int, typer.Option(help="Messages each of them sends.")] = 10,
    runs: Annotated[int, typer.Option(help="Runs per mode (medians are printed).")] = 3,
) -> None:
    """A flood of wrong passwords while people chat: throttle on and off."""
    console = Console()
    table = Table(
        title=f"Inundación de inicios de sesión: {attempts} contraseñas equivocadas a {rate:g}/s "
        f"mientras {people} personas conversan ({runs} corridas, mediana)"
    )
    for column in ("limitador", "chat sola p50/p95 ms", "chat con inundación p50/p95 ms",
                   "p95 con / sin", "401", "429", "5xx o sin respuesta", "intentos/s"):  # fmt: skip
        table.add_column(column, justify="right")
    rasa = FakeRasa()
    with serve(rasa.app) as rasa_url:
        for mode, extra in (("activo", {}), ("apagado", OFF)):
            with tempfile.TemporaryDirectory(prefix="bench-logins-") as tmp:
                var_dir = Path(tmp)
                _account(var_dir)
                env = {"VENTANILLA_RASA_URL": rasa_url, **extra}
                with gateway(var_dir, env) as url:
                    results = [
                        asyncio.run(_run(url, attempts, rate, people, turns, k))
                        for k in range(runs)
                    ]
            statuses = sum((r.statuses for r in results), Counter())
            failed = sum(n for code, n in statuses.items() if code == 0 or code >= 500)
            table.add_row(
                mode,
                _pair(results, "quiet_p50", "quiet_p95"),
                _pair(results, "flood_p50", "flood_p95"),
                f"{statistics.median(r.flood_p95 / r.quiet_p95 for r in results):.2f}×",
                str(statuses[401]), str(statuses[429]), str(failed),
                f"{statistics.median(r.logins_per_second for r in results):.1f}",
            )  # fmt: skip
    console.print(table)
