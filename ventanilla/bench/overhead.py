"""`ventanilla bench overhead`: what the gateway adds to a turn, against Rasa's own REST channel.

One system (the trained model, its action server and the gateway) receives the same load two ways:

* **bare**: straight to Rasa's REST channel, `POST {rasa}/webhooks/rest/webhook`;
* **gateway**: through the gateway's REST channel, `POST /api/messages`, which validates and
  stores the message, serializes the conversation's turns, calls that same Rasa endpoint, stores
  the replies and answers with them.

In a round, each of N concurrent users is a new sender that sends MESSAGES in order, one turn at
a time (the first turn starts Rasa's session: the action server's greeting). A turn is timed from
its request to its response (the HTTP connection is kept alive on both ways). Rounds of the two
ways alternate in one run, in ABBA order (bare, gateway, gateway, bare, …) so that drift of the
machine and which way goes first weigh on both alike; bare and gateway senders have different
ids, so their Rasa trackers never mix. Throughput is the turns answered over the wall time of that
way's rounds. The goal: gateway/bare ≤ 1.10 for p50, p95 and throughput (bare/gateway, so that
above 1 always means the gateway is slower).

Each process's CPU time (user + system, with its child processes, from /proc) is read before and
after every round: per turn, it says what the gateway costs apart from the machine's noise (on
Linux only; elsewhere that table is left out).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from core.settings import get_settings
from ventanilla.bench import bench_app
from ventanilla.bench.stats import format_ratio, load_average, percentile, ratio
from ventanilla.launcher import RunningSystem, start_system, stop_system

# Ordinary turns (no handoff to a person): a greeting that starts the session, a question the
# knowledge base answers (action server), small talk.
MESSAGES = [
    "hola",
    "¿cómo saco mi número de seguridad social?",
    "gracias",
    "adiós",
]
WAYS = ("bare", "gateway")
GOAL = 1.10
TURNS_PER_WAY = 160  # per level when --rounds is not given: 40 rounds at 1 user, 5 at 8
MIN_ROUNDS = 4
TURN_TIMEOUT = 60.0

PROCESSES = ("rasa", "actions", "gateway")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# One turn: (sender, text) → whether it was answered.
Send = Callable[[str, str], bool]


def _proc_table() -> dict[int, tuple[int, float, str]]:
    """Every process: pid → (parent pid, CPU seconds used so far, command line); from /proc,
    empty where there is none."""
    table: dict[int, tuple[int, float, str]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError):
            continue
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime, all threads
        table[int(entry.name)] = (int(fields[1]), cpu, argv.decode(errors="replace"))
    return table


def system_processes(system: RunningSystem) -> dict[str, int]:
    """The pids of the system's processes by name (children of `ventanilla run`)."""
    found: dict[str, int] = {}
    for pid, (parent, _, command) in _proc_table().items():
        if parent != system.process.pid:
            continue
        if "uvicorn" in command:
            found["gateway"] = pid
        elif "rasa_sdk" in command:
            found["actions"] = pid
        elif "--enable-api" in command:
            found["rasa"] = pid
    return found


def cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU time each process has used so far, with its descendants (Sanic's workers)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    used: dict[str, float] = {}
    for name, root in roots.items():
        if root not in table:
            continue
        total, pending = 0.0, [root]
        while pending:
            pid = pending.pop()
            total += table[pid][1]
            pending += children.get(pid, [])
        used[name] = total
    return used


def default_rounds(users: int) -> int:
    """Rounds of each way for about TURNS_PER_WAY turns, at least MIN_ROUNDS: one user is cheap
    and needs many rounds for a steady p95; eight users give eight turns per message and round."""
    return max(MIN_ROUNDS, -(-TURNS_PER_WAY // (users * len(MESSAGES))))


def round_order(rounds: int) -> list[str]:
    """`rounds` rounds of each way, in ABBA pairs: bare, gateway, gateway, bare, bare, …"""
    order: list[str] = []
    for pair in range(rounds):
        order += WAYS if pair % 2 == 0 else WAYS[::-1]
    return order


@dataclass
class WaySummary:
    way: str
    users: int
    turns: int
    errors: int
    p50_ms: float
    p95_ms: float
    turns_per_s: float
    cpu_ms_per_turn: dict[str, float]  # each process's CPU time during this way's rounds


def summarize(
    way: str,
    users: int,
    timings: Sequence[float],
    errors: int,
    wall: float,
    cpu: dict[str, float] | None = None,
) -> WaySummary:
    turns = len(timings) + errors
    return WaySummary(
        way=way,
        users=users,
        turns=len(timings),
        errors=errors,
        p50_ms=percentile(timings, 50),
        p95_ms=percentile(timings, 95),
        turns_per_s=len(timings) / wall if wall > 0 else 0.0,
        cpu_ms_per_turn={
            name: seconds * 1000 / turns for name, seconds in (cpu or {}).items() if turns
        },
    )


@dataclass
class Ratios:
    users: int
    p50: float | None  # gateway / bare
    p95: float | None  # gateway / bare
    throughput: float | None  # bare / gateway


def compare(bare: WaySummary, gateway: WaySummary) -> Ratios:
    return Ratios(
        users=bare.users,
        p50=ratio(gateway.p50_ms, bare.p50_ms),
        p95=ratio(gateway.p95_ms, bare.p95_ms),
        throughput=ratio(bare.turns_per_s, gateway.turns_per_s),
    )


def bare_sender(client: httpx.Client, rasa_url: str) -> Send:
    def send(sender: str, text: str) -> bool:
        response = client.post(
            f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        return response.status_code == 200 and bool(response.json())

    return send


def gateway_sender(client: httpx.Client, base_url: str, api_key: str | None) -> Send:
    headers = {"X-API-Key": api_key} if api_key else {}

    def send(sender: str, text: str) -> bool:
        response = client.post(
            f"{base_url}/api/messages", json={"sender": sender, "text": text}, headers=headers
        )
        # 202: stored, but the answer did not come within the REST wait: not answered.
        return response.status_code == 200 and bool(response.json()["messages"])

    return send


def one_user(send: Send, sender: str) -> tuple[list[float], int]:
    """MESSAGES in order as one sender; the answered turns' latencies (ms) and the errors."""
    timings: list[float] = []
    errors = 0
    for text in MESSAGES:
        started = time.perf_counter()
        try:
            answered = send(sender, text)
        except (httpx.HTTPError, ValueError, KeyError):
            answered = False
        elapsed = (time.perf_counter() - started) * 1000
        if answered:
            timings.append(elapsed)
        else:
            errors += 1
    return timings, errors


def run_round(
    pool: ThreadPoolExecutor, send: Send, users: int, prefix: str
) -> tuple[list[float], int, float]:
    """Every user at once, each a new sender; latencies, errors and the round's wall time."""
    barrier = threading.Barrier(users)

    def user(index: int) -> tuple[list[float], int]:
        barrier.wait()
        return one_user(send, f"{prefix}-u{index}")

    started = time.perf_counter()
    results = list(pool.map(user, range(users)))
    wall = time.perf_counter() - started
    timings = [ms for these, _ in results for ms in these]
    return timings, sum(errors for _, errors in results), wall


def measure(
    system: RunningSystem, users: int, rounds: int, warmup: int, run_id: str, console: Console
) -> tuple[WaySummary, WaySummary]:
    rasa_url = f"http://127.0.0.1:{system.env['VENTANILLA_RASA_PORT']}"
    limits = httpx.Limits(max_connections=users + 4, max_keepalive_connections=users + 4)
    with (
        httpx.Client(timeout=TURN_TIMEOUT, limits=limits) as bare_client,
        httpx.Client(timeout=TURN_TIMEOUT, limits=limits) as gateway_client,
        ThreadPoolExecutor(max_workers=users) as pool,
    ):
        sends = {
            "bare": bare_sender(bare_client, rasa_url),
            "gateway": gateway_sender(
                gateway_client, system.base_url, system.env.get("VENTANILLA_API_KEY")
            ),
        }
        for index, way in enumerate(round_order(warmup)):
            run_round(pool, sends[way], users, f"bench-{run_id}-{way}-n{users}-w{index}")
        timings: dict[str, list[float]] = {way: [] for way in WAYS}
        errors = dict.fromkeys(WAYS, 0)
        wall = dict.fromkeys(WAYS, 0.0)
        pids = system_processes(system)
        cpu: dict[str, dict[str, float]] = {way: dict.fromkeys(pids, 0.0) for way in WAYS}
        order = round_order(rounds)
        with console.status(f"{users} usuario(s): rondas bare/gateway alternadas…") as status:
            for index, way in enumerate(order):
                status.update(f"{users} usuario(s): ronda {index + 1}/{len(order)} ({way})")
                before = cpu_seconds(pids)
                these, failed, seconds = run_round(
                    pool, sends[way], users, f"bench-{run_id}-{way}-n{users}-r{index}"
                )
                after = cpu_seconds(pids)
                timings[way] += these
                errors[way] += failed
                wall[way] += seconds
                for name in before.keys() & after.keys():
                    cpu[way][name] += after[name] - before[name]
    bare, gateway = (
        summarize(way, users, timings[way], errors[way], wall[way], cpu[way]) for way in WAYS
    )
    return bare, gateway


def cpu_table(summaries: list[WaySummary]) -> Table:
    table = Table(
        title="Tiempo de CPU por turno (ms) de cada proceso, durante las rondas de cada vía"
    )
    table.add_column("usuarios", justify="right")
    table.add_column("vía")
    for name in (*PROCESSES, "total"):
        table.add_column(name, justify="right")
    for s in summaries:
        cells = [s.cpu_ms_per_turn.get(name) for name in PROCESSES]
        total = sum(c for c in cells if c is not None)
        table.add_row(
            str(s.users), s.way, *("—" if c is None else f"{c:.0f}" for c in cells), f"{total:.0f}"
        )
    return table


def tables(summaries: list[WaySummary], ratios: list[Ratios]) -> tuple[Table, Table]:
    figures = Table(title="Turnos por el canal REST de Rasa (bare) y por el gateway")
    for column in ["usuarios", "vía", "turnos", "errores", "p50 ms", "p95 ms", "turnos/s"]:
        figures.add_column(column, justify="left" if column == "vía" else "right")
    for s in summaries:
        figures.add_row(
            str(s.users),
            s.way,
            str(s.turns),
            str(s.errors),
            f"{s.p50_ms:.0f}",
            f"{s.p95_ms:.0f}",
            f"{s.turns_per_s:.2f}",
        )
    overhead = Table(title=f"Sobrecosto del gateway (meta ≤ {GOAL:.2f})")
    for column in ["usuarios", "p50 gateway/bare", "p95 gateway/bare", "turnos/s bare/gateway"]:
        overhead.add_column(column, justify="right")
    for r in ratios:
        overhead.add_row(
            str(r.users),
            format_ratio(r.p50, GOAL),
            format_ratio(r.p95, GOAL),
            format_ratio(r.throughput, GOAL),
        )
    return figures, overhead


@bench_app.command("overhead")
def bench_overhead(
    users: Annotated[
        list[int] | None,
        typer.Option("--users", help="Concurrent users; repeat for several levels (default 1, 8)."),
    ] = None,
    rounds: Annotated[
        int | None,
        typer.Option(
            help="Timed rounds of each way per level (every user sends every message); default: "
            f"about {TURNS_PER_WAY} turns of each way (40 rounds at 1 user, 5 at 8).",
            show_default=False,
        ),
    ] = None,
    warmup: Annotated[int, typer.Option(help="Untimed rounds of each way per level first.")] = 1,
    out: Annotated[
        Path | None, typer.Option(help="Folder for results.json (default var/bench/overhead).")
    ] = None,
) -> None:
    """p50, p95 and throughput of turns straight to Rasa and through the gateway; their ratios."""
    console = Console()
    levels = users or [1, 8]
    load_start = load_average()
    console.print(f"Carga de la máquina al inicio (1, 5, 15 min): {load_start}")
    console.print("Iniciando el sistema en puertos libres…")
    running = start_system(Path(tempfile.mkdtemp(prefix="ventanilla-bench-")))
    run_id = uuid.uuid4().hex[:8]
    summaries: list[WaySummary] = []
    ratios: list[Ratios] = []
    level_rounds = {level: rounds or default_rounds(level) for level in levels}
    try:
        for level in levels:
            bare, gateway = measure(running, level, level_rounds[level], warmup, run_id, console)
            summaries += [bare, gateway]
            ratios.append(compare(bare, gateway))
    finally:
        stop_system(running)
    load_end = load_average()

    figures, overhead = tables(summaries, ratios)
    console.print(figures)
    console.print(overhead)
    if any(s.cpu_ms_per_turn for s in summaries):
        console.print(cpu_table(summaries))
    console.print(
        f"{len(MESSAGES)} mensajes por usuario y ronda · rondas por vía (ABBA): "
        + ", ".join(f"{n} con {level} usuario(s)" for level, n in level_rounds.items())
        + f" · {warmup} de calentamiento · carga al inicio {load_start} · al final {load_end}"
    )
    folder = out or get_settings().var_dir / "bench" / "overhead"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(
        json.dumps(
            {
                "messages": MESSAGES,
                "rounds": level_rounds,
                "warmup": warmup,
                "load_start": load_start,
                "load_end": load_end,
                "summaries": [asdict(s) for s in summaries],
                "ratios": [asdict(r) for r in ratios],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
