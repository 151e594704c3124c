"""`ventanilla fuzz`: schemathesis over the gateway's OpenAPI document, anonymous and as each role.

A gateway process (uvicorn, SQLite in a temporary folder, the shipped knowledge base, a fake Rasa
on loopback) gets requests generated from each operation's schema (Hypothesis), with each
role's bearer token: anonymous, an agent and a supervisor of `cita_medica`, an editor, an admin.
Before it starts, the database holds a conversation of the `denuncias` campaign (messages, its
handoff, a note, a callback) marked with a canary string.

What fails the run:
* **a server error** (any 5xx but the documented 503 of `/health`, whose action server is not
  running here);
* **a leak**: the canary in a response to anyone but the admin (the agent's and supervisor's
  campaign is another; editors and the anonymous see no conversations).

Reported, not failed: answers the document does not describe (status codes, bodies), as
schemathesis's conformance checks count them. The console's event stream (`/api/handoff/events`)
is left out: it never ends by design (tests/unit/test_offboarding.py tests it).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import schemathesis
import typer
from hypothesis import HealthCheck, Phase, given, settings
from rich.console import Console
from rich.table import Table
from schemathesis.checks import (
    FailureGroup,
    response_schema_conformance,
    status_code_conformance,
)

from core import conversations as store
from core import db
from core.accounts import service
from handoff.models import Callback, Handoff, HandoffNote
from ventanilla.bench.channels import gateway
from ventanilla.fakes.loopback import serve
from ventanilla.fakes.rasa import FakeRasa
from ventanilla.launcher import seed_knowledge_base

CANARY = "CANARIO-DENUNCIAS-7731"
PASSWORD = "contraseña-de-fuzz-1"
ROLES: dict[str, tuple[str, list[str]] | None] = {
    "anónimo": None,
    "agente": ("agent", ["cita_medica"]),
    "supervisor": ("supervisor", ["cita_medica"]),
    "editor": ("editor", []),
    "admin": ("admin", []),
}
MAY_SEE_CANARY = {"admin"}
LEFT_OUT = {("GET", "/api/handoff/events")}
SERVER_ERROR, LEAK = "error del servidor (5xx)", "fuga de otra campaña"


@dataclass
class Tally:
    operations: int = 0
    examples: Counter[str] = field(default_factory=Counter)  # by role
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # by kind
    undocumented: Counter[str] = field(default_factory=Counter)  # by conformance check
    samples: list[str] = field(default_factory=list)  # the first failures, to read
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def fail(self, kind: str, what: str) -> None:
        self.failures[kind] += 1
        if len(self.samples) < 20:
            self.samples.append(f"{kind}: {what}")


async def _prepare(database_url: str) -> None:
    """The roles' accounts and another campaign's conversation, marked with the canary."""
    await asyncio.to_thread(db.migrate, database_url)
    engine = db.create_engine(database_url)
    try:
        async with db.session_factory(engine)() as session:
            for role, account in ROLES.items():
                if account is not None:
                    await service.create_user(
                        session, _username(role), PASSWORD, account[0], account[1]
                    )
            for campaign, marker, sender in (
                ("denuncias", CANARY, "whatsapp:+5215511112222"),
                ("cita_medica", "cita de prueba", "whatsapp:+5215533334444"),
            ):
                conversation = await store.get_or_create_conversation(session, "whatsapp", sender)
                session.add_all(
                    [
                        store.Message(
                            conversation_id=conversation.id,
                            author=store.Author.USER,
                            text=f"{marker}: quiero hablar con una persona",
                            status=store.Status.DONE,
                        ),
                        store.Message(
                            conversation_id=conversation.id,
                            author=store.Author.BOT,
                            text=f"{marker}: te comunico con una persona",
                            status=store.Status.DONE,
                        ),
                    ]
                )
                handoff = Handoff(
                    conversation_id=conversation.id,
                    campaign=campaign,
                    summary=marker,
                    context={"nota": marker},
                )
                session.add(handoff)
                await session.flush()
                session.add(HandoffNote(handoff_id=handoff.id, author="nadie", text=marker))
                session.add(
                    Callback(
                        conversation_id=conversation.id,
                        campaign=campaign,
                        phone="5512345678",
                        preferred_time=marker,
                        created_at=datetime.now(UTC),
                    )
                )
            await session.commit()
    finally:
        await engine.dispose()


def _username(role: str) -> str:
    return {"agente": "agente.fuzz", "supervisor": "super.fuzz"}.get(role, f"{role}.fuzz")


def _headers(base_url: str) -> dict[str, dict[str, str]]:
    """Each role's headers, with a fresh bearer token where its last one no longer works
    (the fuzzer signs out, revokes tokens, changes passwords too)."""
    headers: dict[str, dict[str, str]] = {}
    for role, account in ROLES.items():
        if account is None:
            headers[role] = {}
            continue
        answer = httpx.post(
            f"{base_url}/api/auth/login",
            json={"username": _username(role), "password": PASSWORD},
            timeout=30,
        )
        answer.raise_for_status()
        headers[role] = {"Authorization": f"Bearer {answer.json()['token']}"}
    return headers


def _still_valid(base_url: str, headers: dict[str, dict[str, str]]) -> bool:
    return all(
        httpx.get(f"{base_url}/api/auth/me", headers=h, timeout=30).status_code == 200
        for role, h in headers.items()
        if h
    )


def _expected_5xx(method: str, path: str, status: int) -> bool:
    return (method, path, status) == ("GET", "/health", 503)


@dataclass(frozen=True)
class Probe:
    """One operation as one role: each generated request, called and judged."""

    tally: Tally
    base_url: str
    headers: dict[str, str]
    role: str
    method: str
    path: str

    def __call__(self, case: Any) -> None:
        response = case.call(base_url=self.base_url, headers=self.headers, timeout=30)
        status = response.status_code
        self.tally.examples[self.role] += 1
        self.tally.statuses[status] += 1
        where = f"{self.role} {self.method} {case.formatted_path} → {status}"
        if status >= 500 and not _expected_5xx(self.method, self.path, status):
            self.tally.fail(SERVER_ERROR, f"{where} {response.text[:200]}")
        if self.role not in MAY_SEE_CANARY and CANARY in response.text:
            self.tally.fail(LEAK, where)
        for check in (status_code_conformance, response_schema_conformance):
            try:
                case.validate_response(response, checks=[check])
            except (AssertionError, FailureGroup):  # how schemathesis reports a failed check
                self.tally.undocumented[check.__name__] += 1


def fuzz(base_url: str, examples: int, tally: Tally) -> None:
    """Every operation, as every role, `examples` generated requests each."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = _headers(base_url)
    started = time.perf_counter()
    budget = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        if (method, path) in LEFT_OUT:
            continue
        tally.operations += 1
        for role in ROLES:
            probe = Probe(tally, base_url, headers[role], role, method, path)
            budget(given(case=operation.as_strategy())(probe.__call__))()
            if not _still_valid(base_url, headers):
                headers = _headers(base_url)
    tally.seconds = time.perf_counter() - started


def run_fuzz(examples: int) -> Tally:
    """A gateway of its own, prepared and fuzzed; the tally."""
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="ventanilla-fuzz-") as folder:
        var_dir = Path(folder)
        asyncio.run(_prepare(f"sqlite:///{var_dir / 'ventanilla.db'}"))
        with serve(FakeRasa().app) as rasa_url:
            env = {
                "VENTANILLA_RASA_URL": rasa_url,
                "VENTANILLA_REST_WAIT_SECONDS": "5",
                # The fuzzer's own wrong sign-ins would lock its roles out of signing in again
                # (after a sign-out it makes): the throttle has tests of its own.
                "VENTANILLA_LOGIN_FAILURES_PER_ADDRESS": "1000000",
            }
            seed_knowledge_base(var_dir, {**os.environ, **env, "VENTANILLA_VAR_DIR": folder})
            with gateway(var_dir, env) as url:
                fuzz(url, examples, tally)
    return tally


def print_tally(tally: Tally, console: Console) -> None:
    table = Table(title=f"Fuzz de la API (schemathesis), {tally.operations} operaciones")
    table.add_column("rol")
    table.add_column("peticiones", justify="right")
    for role, count in tally.examples.items():
        table.add_row(role, f"{count:,}")
    table.add_row("total", f"{sum(tally.examples.values()):,}")
    console.print(table)
    outcome = Table(title=f"Resultados ({tally.seconds:.0f} s)")
    outcome.add_column("tipo")
    outcome.add_column("cuántas", justify="right")
    for kind in (SERVER_ERROR, LEAK):
        outcome.add_row(kind, str(tally.failures[kind]))
    for check, count in sorted(tally.undocumented.items()):
        outcome.add_row(f"no descrita en el documento ({check}), informativo", str(count))
    statuses = ", ".join(f"{code}: {n:,}" for code, n in sorted(tally.statuses.items()))
    outcome.add_row("respuestas por código", statuses)
    console.print(outcome)
    for sample in tally.samples:
        console.print(f"[red]{sample}[/red]")


def fuzz_command(
    examples: Annotated[
        int, typer.Option(help="Peticiones generadas por operación y por rol.")
    ] = 25,
) -> None:
    """Fuzz de la API: cada operación, anónimo y con cada rol; falla con un 5xx o una fuga."""
    tally = run_fuzz(examples)
    print_tally(tally, Console())
    raise typer.Exit(1 if tally.failed else 0)
