"""`ventanilla bench channels`: a burst of signed webhooks through a real gateway process.

The gateway runs as its own process (uvicorn, SQLite in a temporary folder) with Telegram and
WhatsApp (Twilio) configured against local fakes of their APIs (`ventanilla/fakes/`) and a fake
Rasa that answers at once, so what is measured is the gateway: verifying, committing, the turn,
the outbox and the provider's SDK. Each run sends `--webhooks` messages over `--conversations`
chats at once; a chat's messages go one after the other (as a provider sends them), the chats in
parallel. Printed per run and as medians: webhook acknowledgement p50/p95, time from a webhook
to its reply at the fake provider p50/p95, messages per second until the last reply, and
whether every message was answered exactly once and in order within its chat.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import typer
from rich.console import Console
from rich.table import Table
from twilio.request_validator import RequestValidator

from core.settings import PROJECT_ROOT
from ventanilla.bench import bench_app
from ventanilla.bench.stats import percentile
from ventanilla.fakes.loopback import serve
from ventanilla.fakes.rasa import FakeRasa
from ventanilla.fakes.telegram_api import FakeTelegramApi
from ventanilla.fakes.twilio_api import FakeTwilioApi
from ventanilla.launcher import free_port

TELEGRAM_TOKEN, TELEGRAM_SECRET = "123456:bench", "bench-secret"
TWILIO_SID, TWILIO_TOKEN = "AC" + "b" * 32, "t" * 32
PUBLIC = "https://bench.example.org"


@dataclass
class Fakes:
    telegram: FakeTelegramApi
    twilio: FakeTwilioApi
    env: dict[str, str]


@contextmanager
def fakes() -> Iterator[Fakes]:
    telegram, twilio, rasa = (
        FakeTelegramApi(TELEGRAM_TOKEN), FakeTwilioApi(TWILIO_SID, TWILIO_TOKEN), FakeRasa()
    )  # fmt: skip
    with ExitStack() as stack:
        env = {
            "VENTANILLA_RASA_URL": stack.enter_context(serve(rasa.app)),
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE": stack.enter_context(serve(telegram.app)),
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "TWILIO_API_BASE": stack.enter_context(serve(twilio.app)),
            "PUBLIC_BASE_URL": PUBLIC,
        }
        yield Fakes(telegram, twilio, env)


@contextmanager
def gateway(var_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """A gateway process on a free port; its base URL once it answers."""
    port = str(free_port())
    full = {
        **os.environ,
        **env,
        "VENTANILLA_VAR_DIR": str(var_dir),
        "VENTANILLA_PORT": port,
        "VENTANILLA_ACTION_PORT": str(free_port()),
        "VENTANILLA_DELIVERY_RETRY_SECONDS": "0.2",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log = (var_dir / "gateway.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ventanilla.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", port, "--no-access-log"],
        cwd=PROJECT_ROOT, env=full, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((var_dir / "gateway.log").read_text()[-3000:])
            try:
                if httpx.get(f"{url}/api/channels", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@dataclass
class Channel:
    """How to post one message to a channel's webhook and find its reply at the fake."""

    name: str
    path: str
    request: Callable[[str, str, str], dict[str, Any]]  # (chat, text, id) → httpx kwargs
    replies: Callable[[Fakes, str], list[str]]  # chat → reply texts so far


def _telegram(chat: str, text: str, message_id: str) -> dict[str, Any]:
    update = {
        "update_id": int(message_id),
        "message": {
            "message_id": int(message_id),
            "date": int(time.time()),
            "chat": {"id": int(chat), "type": "private"},
            "from": {"id": int(chat), "is_bot": False, "first_name": "Ana"},
            "text": text,
        },
    }
    return {"json": update, "headers": {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}}


def _whatsapp(chat: str, text: str, message_id: str) -> dict[str, Any]:
    params = {
        "MessageSid": f"SM{int(message_id):032d}",
        "AccountSid": TWILIO_SID,
        "From": chat,
        "To": "whatsapp:+14155238886",
        "Body": text,
        "NumMedia": "0",
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        f"{PUBLIC}/webhooks/twilio/whatsapp", params
    )
    return {
        "content": urlencode(params),
        "headers": {
            "content-type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    }


CHANNELS = {
    "telegram": Channel(
        "telegram",
        "/webhooks/telegram",
        _telegram,
        lambda f, chat: [m["text"] for m in f.telegram.sent(int(chat))],
    ),
    "whatsapp": Channel(
        "whatsapp",
        "/webhooks/twilio/whatsapp",
        _whatsapp,
        lambda f, chat: [m["Body"] for m in f.twilio.sent(chat)],
    ),
}


@dataclass
class Run:
    ack_p50: float
    ack_p95: float
    reply_p50: float
    reply_p95: float
    per_second: float
    exactly_once_in_order: bool
    failures: int


async def _burst(
    url: str, channel: Channel, fakes_: Fakes, chats: list[str], per_chat: int, first_id: int
) -> Run:
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=len(chats), max_keepalive_connections=len(chats))
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one_chat(n: int, chat: str) -> None:
            nonlocal failures
            for k in range(per_chat):
                text = f"mensaje {k} del chat {n}"
                started = time.perf_counter()
                sent_at[text] = started
                kwargs = channel.request(chat, text, str(first_id + n * per_chat + k))
                response = await client.post(channel.path, **kwargs)
                acks.append((time.perf_counter() - started) * 1000)
                failures += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one_chat(n, chat) for n, chat in enumerate(chats)))
    expected = {chat: [f"Recibí: mensaje {k} del chat {n}" for k in range(per_chat)]
                for n, chat in enumerate(chats)}  # fmt: skip
    arrived: dict[str, float] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        now = time.perf_counter()
        for chat in chats:
            for reply in channel.replies(fakes_, chat):
                arrived.setdefault(reply, now)
        if len(arrived) >= len(chats) * per_chat:
            break
        await asyncio.sleep(0.005)
    finished = max(arrived.values(), default=time.perf_counter())
    await asyncio.sleep(1.0)  # anything sent twice would show up by now
    correct = all(channel.replies(fakes_, chat) == expected[chat] for chat in chats)
    latencies = [
        (arrived[f"Recibí: {text}"] - at) * 1000
        for text, at in sent_at.items()
        if f"Recibí: {text}" in arrived
    ]
    return Run(
        percentile(acks, 50),
        percentile(acks, 95),
        percentile(latencies, 50),
        percentile(latencies, 95),
        len(arrived) / (finished - started),
        correct,
        failures,
    )


@bench_app.command("channels")
def bench_channels(
    webhooks: Annotated[int, typer.Option(help="Messages per run.")] = 200,
    conversations: Annotated[int, typer.Option(help="Chats they are spread over.")] = 50,
    runs: Annotated[int, typer.Option(help="Runs per channel (medians are printed).")] = 3,
    channel: Annotated[list[str] | None, typer.Option(help="telegram, whatsapp")] = None,
) -> None:
    """A burst of signed webhooks through a gateway process: acknowledgement, reply, order."""
    names = channel or list(CHANNELS)
    per_chat = max(1, webhooks // conversations)
    console = Console()
    table = Table(
        title=f"Ráfaga de webhooks: {conversations * per_chat} mensajes en {conversations} "
        f"conversaciones, {runs} corridas ({os.cpu_count()} núcleos)"
    )
    for column in ("canal", "corrida", "acuse p50/p95 ms", "respuesta p50/p95 ms", "mensajes/s",
                   "una vez y en orden"):  # fmt: skip
        table.add_column(column, justify="right" if column != "canal" else "left")
    with ExitStack() as stack:
        fakes_ = stack.enter_context(fakes())
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        url = stack.enter_context(gateway(Path(folder), fakes_.env))
        next_id = 1_000_000
        for name in names:
            spec = CHANNELS[name]
            results = []
            for run in range(1, runs + 1):
                chats = (
                    [str(7_000_000 + next_id + n) for n in range(conversations)]
                    if name == "telegram"
                    else [f"whatsapp:+52155{next_id + n:08d}" for n in range(conversations)]
                )
                result = asyncio.run(_burst(url, spec, fakes_, chats, per_chat, next_id))
                next_id += conversations * per_chat + conversations
                results.append(result)
                table.add_row(
                    name, str(run), f"{result.ack_p50:.0f} / {result.ack_p95:.0f}",
                    f"{result.reply_p50:.0f} / {result.reply_p95:.0f}",
                    f"{result.per_second:.0f}",
                    "sí" if result.exactly_once_in_order and not result.failures else "NO",
                )  # fmt: skip
            table.add_row(
                f"[b]{name}[/b]", "mediana",
                f"{statistics.median(r.ack_p50 for r in results):.0f} / "
                f"{statistics.median(r.ack_p95 for r in results):.0f}",
                f"{statistics.median(r.reply_p50 for r in results):.0f} / "
                f"{statistics.median(r.reply_p95 for r in results):.0f}",
                f"{statistics.median(r.per_second for r in results):.0f}",
                "sí" if all(r.exactly_once_in_order and not r.failures for r in results)
                else "NO",
            )  # fmt: skip
    console.print(table)
