"""`ventanilla bench appointments`: bookings per second through the appointments API.

A gateway process (uvicorn, SQLite in a temporary folder) with the demo data (`seed-demo`);
`--clients` people at once, each asking for their open slots and booking the first one
(`GET /api/appointments/slots`, then `POST /api/appointments`), until `--bookings` are made.
Two people may pick the same first slot: the loser's 409 is counted and they ask again, as the
bot does. Per run: bookings per second, the POST's p50/p95, and the 409s; the table gives each
run and the median.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from appointments import seed
from appointments.booking import today_local
from core import db
from ventanilla.bench import bench_app
from ventanilla.bench.channels import gateway
from ventanilla.bench.stats import percentile


@dataclass
class Run:
    bookings: int
    seconds: float
    taken: int
    post_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.bookings / self.seconds


async def _people(var_dir: Path, count: int) -> list[dict[str, Any]]:
    url = f"sqlite:///{var_dir / 'ventanilla.db'}"
    await asyncio.to_thread(db.migrate, url)
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            await seed.seed_demo(session, 7, today_local())
            return await seed.sample(session, count, today_local())
    finally:
        await engine.dispose()


async def _book_all(url: str, people: list[dict[str, Any]], clients: int) -> Run:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for who in people:
        queue.put_nowait(who)
    post_ms: list[float] = []
    taken = booked = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal taken, booked
        while not queue.empty():
            who = queue.get_nowait()
            ids = {"nss": who["nss"], "curp": who["curp"], "service": "medicina_familiar"}
            for _ in range(5):
                offered = (await client.get("/api/appointments/slots", params=ids)).json()
                if not offered["slots"]:
                    break
                started = time.perf_counter()
                answer = await client.post(
                    "/api/appointments", json={**ids, "slot_id": offered["slots"][0]["id"]}
                )
                post_ms.append((time.perf_counter() - started) * 1000)
                if answer.status_code == 201:
                    booked += 1
                    break
                if answer.status_code != 409:
                    raise RuntimeError(f"{answer.status_code}: {answer.text}")
                taken += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return Run(booked, time.perf_counter() - started, taken, post_ms)


@bench_app.command("appointments")
def bench_appointments(
    bookings: Annotated[int, typer.Option(help="Citas por corrida.")] = 300,
    clients: Annotated[int, typer.Option(help="Personas a la vez.")] = 10,
    runs: Annotated[int, typer.Option(help="Corridas (se da la mediana).")] = 3,
) -> None:
    """Bookings per second through the appointments API on a gateway process."""
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-citas-") as folder:
            var_dir = Path(folder)
            people = [
                p for p in asyncio.run(_people(var_dir, bookings * 2))
                if "medicina_familiar" in p["services"]
            ][:bookings]  # fmt: skip
            with gateway(var_dir, {}) as url:
                results.append(asyncio.run(_book_all(url, people, clients)))
    table = Table(title=f"Citas por la API, {clients} personas a la vez (gateway + SQLite)")
    for column in ("corrida", "citas", "citas/s", "POST p50 ms", "POST p95 ms", "409 (ocupado)"):
        table.add_column(column, justify="right")
    for n, run in enumerate(results, start=1):
        table.add_row(
            str(n),
            str(run.bookings),
            f"{run.per_second:.1f}",
            f"{percentile(run.post_ms, 50):.0f}",
            f"{percentile(run.post_ms, 95):.0f}",
            str(run.taken),
        )
    table.add_row(
        "mediana",
        "",
        f"{statistics.median(r.per_second for r in results):.1f}",
        f"{statistics.median(percentile(r.post_ms, 50) for r in results):.0f}",
        f"{statistics.median(percentile(r.post_ms, 95) for r in results):.0f}",
        f"{statistics.median(r.taken for r in results):.0f}",
    )
    Console().print(table)
