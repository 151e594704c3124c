"""`ventanilla bench load`: web chat turns under load, without and with open console streams.

USERS web chat visitors (threads, each speaking the widget's protocol through `ChatClient`, each
its own session) start together and send TURNS ordinary messages each (no handoff to a person),
one at a time: a turn is timed from sending the message to the bot's last reply (typing off). A
turn with no frame for TIMEOUT s is a timeout (that visitor goes on with a new session); an
`error` frame, a turn with no bot reply or a broken socket is an error.

The same load runs once per count of open console event streams (default 0, then 40): each stream
is `GET /api/handoff/events` (server-sent events) held by a staff account of its own, signed in
with a bearer token (three agents in four, over a few campaigns; the rest supervisors), and read
continuously by an asyncio task. Every stream has read its first line before the turns start, and
the table says how many were still open when they ended. The goal: every turn answered, and p95
with the streams at most 1.5 × p95 without (each stream used to hold a pooled database
connection, so a handful of consoles left the web chat's turns waiting for one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table
from websockets.exceptions import WebSocketException

from connectors.webchat.client import ChatClient, bot_texts
from core.settings import get_settings
from ventanilla.bench import bench_app
from ventanilla.bench.stats import format_ratio, load_average, percentile, ratio
from ventanilla.launcher import RunningSystem, create_account, start_system, stop_system

# Ordinary turns, none of them a request for a person: a greeting (session start on a visitor's
# first turn), a question the knowledge base answers (action server), small talk, the menu.
MESSAGES = [
    "hola",
    "¿cómo saco mi número de seguridad social?",
    "gracias",
    "¿eres un robot?",
    "menú",
    "adiós",
]
AGENT_CAMPAIGNS = ["derechohabiente", "cita_medica", "contribuyente"]
PASSWORD = "contraseña-de-bench-1"
P95_GOAL = 1.5
STREAM_OPEN_TIMEOUT = 60.0


def staff_accounts(count: int) -> list[tuple[str, str, list[str]]]:
    """`count` staff accounts (username, role, campaigns): three agents in four, each with one
    campaign of AGENT_CAMPAIGNS in turn; the rest supervisors, every other one of all campaigns."""
    supervisors = count // 4
    accounts: list[tuple[str, str, list[str]]] = []
    for i in range(count - supervisors):
        accounts.append((f"bench.agente{i:02d}", "agent", [AGENT_CAMPAIGNS[i % 3]]))
    for i in range(supervisors):
        campaigns = [] if i % 2 == 0 else [AGENT_CAMPAIGNS[i % 3]]
        accounts.append((f"bench.supervisor{i:02d}", "supervisor", campaigns))
    return accounts


# ---------------------------------------------------------------- console streams


@dataclass
class StreamStats:
    status: int | None = None
    lines: int = 0
    events: int = 0
    ended: bool = False  # the server closed it
    error: str | None = None

    @property
    def open(self) -> bool:
        return self.status == 200 and self.lines > 0 and not self.ended and self.error is None


class ConsoleStreams:
    """Event streams held open by a background event loop, each read line by line until close."""

    def __init__(self, base_url: str, tokens: list[str]):
        self.url = f"{base_url}/api/handoff/events"
        self.tokens = tokens
        self.stats = [StreamStats() for _ in tokens]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.tasks: list[asyncio.Task[None]] = []

    def open(self) -> int:
        """Start every stream; return once each has read its first line or failed, or after
        STREAM_OPEN_TIMEOUT (those still waiting keep trying): how many are open."""
        self.thread.start()
        with contextlib.suppress(TimeoutError):
            asyncio.run_coroutine_threadsafe(self._open_all(), self.loop).result(
                STREAM_OPEN_TIMEOUT + 5
            )
        return self.still_open()

    def still_open(self) -> int:
        return sum(stats.open for stats in self.stats)

    def close(self) -> None:
        if self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._close_all(), self.loop).result(30)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        self.loop.close()

    async def _open_all(self) -> None:
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(30, read=None),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
        )
        opened = [asyncio.Event() for _ in self.tokens]
        self.tasks = [
            asyncio.create_task(self._hold(token, stats, event))
            for token, stats, event in zip(self.tokens, self.stats, opened, strict=True)
        ]
        await asyncio.wait_for(
            asyncio.gather(*(event.wait() for event in opened)), STREAM_OPEN_TIMEOUT
        )

    async def _hold(self, token: str, stats: StreamStats, opened: asyncio.Event) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        try:
            async with self.client.stream("GET", self.url, headers=headers) as response:
                stats.status = response.status_code
                if response.status_code != 200:
                    stats.error = f"HTTP {response.status_code}"
                    return
                async for line in response.aiter_lines():
                    stats.lines += 1
                    if line.startswith("event:"):
                        stats.events += 1
                    opened.set()
            stats.ended = True
        except httpx.HTTPError as exc:
            stats.error = f"{type(exc).__name__}: {exc}"
        finally:
            opened.set()

    async def _close_all(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()


def sign_in(base_url: str, accounts: list[tuple[str, str, list[str]]]) -> list[str]:
    tokens = []
    with httpx.Client(timeout=30) as client:
        for username, _, _ in accounts:
            response = client.post(
                f"{base_url}/api/auth/login", json={"username": username, "password": PASSWORD}
            )
            response.raise_for_status()
            tokens.append(response.json()["token"])
    return tokens


# ---------------------------------------------------------------- web chat users


@dataclass
class UserResult:
    timings: list[tuple[str, float]] = field(default_factory=list)  # answered turns, ms
    sent: int = 0
    timeouts: int = 0
    errors: int = 0
    problems: list[str] = field(default_factory=list)  # the first few, for the report


def chat_user(ws_url: str, turns: int, timeout: float, start: threading.Barrier) -> UserResult:
    result = UserResult()
    chat: ChatClient | None = ChatClient(ws_url, timeout=timeout)
    start.wait()
    for i in range(turns):
        text = MESSAGES[i % len(MESSAGES)]
        started = time.perf_counter()
        problem = None
        try:
            if chat is None:
                chat = ChatClient(ws_url, timeout=timeout)
            result.sent += 1
            frames = chat.turn(text)
            elapsed = (time.perf_counter() - started) * 1000
            if frames[-1]["type"] == "error" or not bot_texts(frames):
                result.errors += 1
                problem = f"{text!r}: {frames[-1]}"
            else:
                result.timings.append((text, elapsed))
        except TimeoutError:
            result.timeouts += 1
            problem = f"{text!r}: no frame in {timeout:.0f} s"
        except (WebSocketException, OSError) as exc:
            result.errors += 1
            problem = f"{text!r}: {type(exc).__name__}: {exc}"
        if problem is not None:
            if len(result.problems) < 3:
                result.problems.append(problem)
            if chat is not None:
                chat.close()
            chat = None  # late frames of that turn must not count for the next one
    if chat is not None:
        chat.close()
    return result


def run_chats(
    ws_url: str, users: int, turns: int, timeout: float
) -> tuple[list[UserResult], float]:
    """Every visitor connects, then all start together; their results and the wall time from
    that start to the last visitor's last turn."""
    started: list[float] = []
    start = threading.Barrier(users, action=lambda: started.append(time.perf_counter()))
    with ThreadPoolExecutor(max_workers=users) as pool:
        futures = [pool.submit(chat_user, ws_url, turns, timeout, start) for _ in range(users)]
        results = [future.result() for future in futures]
    return results, time.perf_counter() - started[0]


@dataclass
class Run:
    """One run: the visitors' turns with `streams` console streams open."""

    streams: int
    users: list[UserResult]
    seconds: float
    streams_open_at_start: int
    streams_open_at_end: int
    stream_events: int
    load_start: str
    load_end: str


def run_order(counts: list[int], repeat: int) -> list[int]:
    """The stream counts `repeat` times, every other time reversed (0, 40, 40, 0, …), so that
    drift of the machine weighs on each count alike."""
    order: list[int] = []
    for index in range(repeat):
        order += counts if index % 2 == 0 else counts[::-1]
    return order


def measure(
    system: RunningSystem,
    tokens: list[str],
    streams: int,
    users: int,
    turns: int,
    timeout: float,
    console: Console,
) -> Run:
    held = ConsoleStreams(system.base_url, tokens[:streams])
    load_start = load_average()
    open_at_start = 0
    try:
        if streams:
            with console.status(f"Abriendo {streams} flujos de eventos de consola…"):
                open_at_start = held.open()
            if open_at_start < streams:
                # Turns run all the same: what a console that cannot connect does to them is
                # what this benchmark is for.
                failed = [s for s in held.stats if not s.open][:3]
                console.print(f"[yellow]{streams - open_at_start} flujos sin abrir:[/] {failed}")
        with console.status(f"{users} visitantes × {turns} turnos con {streams} flujos abiertos…"):
            results, seconds = run_chats(system.ws_url, users, turns, timeout)
        open_at_end = held.still_open()
    finally:
        held.close()
    return Run(
        streams=streams,
        users=results,
        seconds=seconds,
        streams_open_at_start=open_at_start,
        streams_open_at_end=open_at_end,
        stream_events=sum(s.events for s in held.stats),
        load_start=load_start,
        load_end=load_average(),
    )


@dataclass
class Summary:
    """Every run with one count of open streams, together."""

    streams: int
    runs: int
    streams_open_at_start: int  # the fewest of its runs
    streams_open_at_end: int  # the fewest of its runs
    stream_events: int
    sent: int
    answered: int
    timeouts: int
    errors: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    turns_per_s: float
    p95_per_run: list[float]  # in the order of the runs
    load: list[str]  # 1-minute load average at each run's start and end
    by_message: dict[str, dict[str, float]]
    problems: list[str]

    @property
    def all_answered(self) -> bool:
        return self.answered == self.sent and self.sent > 0


def summarize(streams: int, runs: list[Run]) -> Summary:
    users = [u for run in runs for u in run.users]
    timings = [ms for u in users for _, ms in u.timings]
    seconds = sum(run.seconds for run in runs)
    by_message = {}
    for text in MESSAGES:
        these = [ms for u in users for t, ms in u.timings if t == text]
        by_message[text] = {
            "turns": len(these),
            "p50_ms": percentile(these, 50),
            "p95_ms": percentile(these, 95),
        }
    return Summary(
        streams=streams,
        runs=len(runs),
        streams_open_at_start=min((run.streams_open_at_start for run in runs), default=0),
        streams_open_at_end=min((run.streams_open_at_end for run in runs), default=0),
        stream_events=sum(run.stream_events for run in runs),
        sent=sum(u.sent for u in users),
        answered=len(timings),
        timeouts=sum(u.timeouts for u in users),
        errors=sum(u.errors for u in users),
        p50_ms=percentile(timings, 50),
        p95_ms=percentile(timings, 95),
        max_ms=max(timings, default=0.0),
        turns_per_s=len(timings) / seconds if seconds > 0 else 0.0,
        p95_per_run=[percentile([ms for u in r.users for _, ms in u.timings], 95) for r in runs],
        load=[f"{r.load_start.split(',')[0]} → {r.load_end.split(',')[0]}" for r in runs],
        by_message=by_message,
        problems=[p for u in users for p in u.problems][:5],
    )


def results_table(summaries: list[Summary]) -> Table:
    """One column per count of open streams; the p95 ratio is against the first."""
    table = Table(title="Turnos por el web chat con flujos de eventos de consola abiertos")
    table.add_column("")
    for s in summaries:
        table.add_column(f"{s.streams} flujos", justify="right")
    baseline = summaries[0].p95_ms if summaries else 0.0
    rows: list[tuple[str, list[str]]] = [
        ("corridas", [str(s.runs) for s in summaries]),
        (
            "flujos abiertos al empezar / terminar (mín.)",
            [f"{s.streams_open_at_start} / {s.streams_open_at_end}" for s in summaries],
        ),
        ("eventos leídos en los flujos", [str(s.stream_events) for s in summaries]),
        ("turnos enviados", [str(s.sent) for s in summaries]),
        ("respondidos", [f"{s.answered} {'✓' if s.all_answered else '✗'}" for s in summaries]),
        ("timeouts", [str(s.timeouts) for s in summaries]),
        ("errores", [str(s.errors) for s in summaries]),
        ("p50 ms", [f"{s.p50_ms:.0f}" for s in summaries]),
        ("p95 ms", [f"{s.p95_ms:.0f}" for s in summaries]),
        ("máx ms", [f"{s.max_ms:.0f}" for s in summaries]),
        (
            "p95 ms de cada corrida",
            [", ".join(f"{v:.0f}" for v in s.p95_per_run) for s in summaries],
        ),
        ("turnos/s", [f"{s.turns_per_s:.1f}" for s in summaries]),
        (
            f"p95 ÷ p95 con {summaries[0].streams if summaries else 0} flujos",
            ["—"] + [format_ratio(ratio(s.p95_ms, baseline), P95_GOAL) for s in summaries[1:]],
        ),
        ("carga (1 min) inicio → fin", ["\n".join(s.load) for s in summaries]),
    ]
    for label, cells in rows:
        table.add_row(label, *cells)
    return table


def messages_table(summaries: list[Summary]) -> Table:
    table = Table(title="Por mensaje: p50 / p95 ms")
    table.add_column("mensaje")
    for s in summaries:
        table.add_column(f"{s.streams} flujos", justify="right")
    for text in MESSAGES:
        cells = [
            f"{s.by_message[text]['p50_ms']:.0f} / {s.by_message[text]['p95_ms']:.0f}"
            if s.by_message[text]["turns"]
            else "—"
            for s in summaries
        ]
        table.add_row(text, *cells)
    return table


@bench_app.command("load")
def bench_load(
    users: Annotated[int, typer.Option(help="Concurrent web chat visitors.")] = 20,
    turns: Annotated[int, typer.Option(help="Timed turns per visitor and run.")] = 6,
    streams: Annotated[
        list[int] | None,
        typer.Option(
            "--streams",
            help="Open console event streams; repeat for several counts (default 0, 40). "
            "The p95 ratio is against the first.",
        ),
    ] = None,
    repeat: Annotated[
        int, typer.Option(help="Runs of each count, in alternating order (0, 40, 40, 0, …).")
    ] = 2,
    warmup: Annotated[int, typer.Option(help="Untimed turns per visitor first.")] = 3,
    timeout: Annotated[float, typer.Option(help="Seconds without a frame: a timeout.")] = 30.0,
    database_url: Annotated[
        str, typer.Option(help="Application database (default: a new SQLite file).")
    ] = "",
    out: Annotated[
        Path | None, typer.Option(help="Folder for results.json (default var/bench/load).")
    ] = None,
) -> None:
    """Web chat turns (answered, timeouts, p50, p95) without and with open console streams."""
    console = Console()
    counts = list(dict.fromkeys(streams if streams is not None else [0, 40]))
    overrides = {"VENTANILLA_DATABASE_URL": database_url} if database_url else {}
    console.print(f"Carga de la máquina al inicio (1, 5, 15 min): {load_average()}")
    console.print("Iniciando el sistema en puertos libres…")
    running = start_system(Path(tempfile.mkdtemp(prefix="ventanilla-bench-")), **overrides)
    runs: list[Run] = []
    folder = out or get_settings().var_dir / "bench" / "load"
    try:
        accounts = staff_accounts(max(counts, default=0))
        with console.status(f"Creando {len(accounts)} cuentas del personal…"):
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(
                    pool.map(
                        lambda a: create_account(running, a[0], a[1], a[2], PASSWORD), accounts
                    )
                )
            tokens = sign_in(running.base_url, accounts)
        if warmup:
            with console.status("Calentamiento…"):
                run_chats(running.ws_url, users, warmup, timeout)
        for count in run_order(counts, repeat):
            runs.append(measure(running, tokens, count, users, turns, timeout, console))
    finally:
        stop_system(running)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(running.log_path, folder / "system.log")

    summaries = [summarize(c, [r for r in runs if r.streams == c]) for c in counts]
    console.print(results_table(summaries))
    console.print(messages_table(summaries))
    agents = sum(1 for _, role, _ in accounts if role == "agent")
    console.print(
        f"{users} visitantes × {turns} turnos por corrida · cuentas: {agents} agentes "
        f"({', '.join(AGENT_CAMPAIGNS)}) y {len(accounts) - agents} supervisores, un flujo cada "
        f"una · meta: todo respondido y p95 ≤ {P95_GOAL} × sin flujos · por mensaje y registro "
        f"del sistema: {folder}"
    )
    for summary in summaries:
        for problem in summary.problems:
            console.print(f"[yellow]{summary.streams} flujos:[/yellow] {problem}")
    (folder / "results.json").write_text(
        json.dumps(
            {
                "messages": MESSAGES,
                "users": users,
                "turns_per_run": turns,
                "order": [run.streams for run in runs],
                "summaries": [asdict(s) for s in summaries],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
