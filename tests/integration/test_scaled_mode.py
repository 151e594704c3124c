"""Scaled mode against the real system: PostgreSQL, Redis pub/sub and two gateway processes.

Gateway A is the whole system (Rasa, action server, gateway); gateway B is a second gateway
process with the same settings, as behind a load balancer. The web chat user talks to B while
agents use A's API: what an agent writes on A reaches the user's socket on B only through Redis.

Needs PostgreSQL (trust auth, database `test`) and Redis; skipped when either is not reachable.
`VENTANILLA_TEST_POSTGRES_URL` and `VENTANILLA_TEST_REDIS_URL` point elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url

from connectors.webchat.client import ChatClient, bot_texts
from tests.utils.staff import Staff, create_user, eventually, frames_until, rest_say
from ventanilla.launcher import RunningSystem, start_gateway, start_system, stop_system

pytestmark = pytest.mark.integration

POSTGRES_URL = os.environ.get(
    "VENTANILLA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("VENTANILLA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Scaled:
    a: RunningSystem  # Rasa, action server and gateway A
    b: RunningSystem  # gateway B only
    database_url: str


def _postgres_unreachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}"
    return None


def _redis_unreachable() -> str | None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    finally:
        client.close()
    return None


@pytest.fixture(scope="module")
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for this module, dropped afterwards."""
    reason = _postgres_unreachable() or _redis_unreachable()
    if reason:
        pytest.skip(reason)
    name = f"ventanilla_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    # Same server and user, the new database; read by SQLAlchemy (the system) and psycopg (here).
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def scaled(fresh_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scaled]:
    a = start_system(
        tmp_path_factory.mktemp("scaled"),
        VENTANILLA_DATABASE_URL=fresh_database,
        VENTANILLA_REDIS_URL=REDIS_URL,
        VENTANILLA_HANDOFF_TICK_SECONDS="0.3",
        VENTANILLA_HANDOFF_OFFER_TIMEOUT_SECONDS="2",
        VENTANILLA_HANDOFF_ABANDON_AFTER_SECONDS="2",
        VENTANILLA_HANDOFF_HOURS=json.dumps({}),
    )
    try:
        b = start_gateway(a)  # same database, Redis, Rasa and action server; another port
    except BaseException:
        stop_system(a)
        raise
    try:
        create_user(a, "ana.derecho", "agent", "derechohabiente")
        create_user(a, "pia.pension", "agent", "pensionados")
        create_user(a, "paco.pension", "agent", "pensionados")
        yield Scaled(a, b, fresh_database)
    finally:
        stop_system(b)
        stop_system(a)


def event_kinds(database_url: str, handoff_id: int) -> list[str]:
    """Straight from PostgreSQL, not through the API."""
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT kind FROM handoff_events WHERE handoff_id = %s ORDER BY id", (handoff_id,)
        ).fetchall()
    return [kind for (kind,) in rows]


def test_user_on_one_gateway_and_agent_on_the_other(scaled: Scaled) -> None:
    ana = Staff(scaled.a, "ana.derecho")  # the agent's API: gateway A
    chat = ChatClient(scaled.b.ws_url)  # the user's socket: gateway B
    chat.turn("hola")

    queued = bot_texts(chat.turn("quiero hablar con una persona"))[-1]
    assert "Orientación a derechohabientes" in queued and "lugar 1" in queued

    entry = eventually(lambda: [e for e in ana.queue() if e["channel"] == "webchat"])[0]
    assert entry["campaign"] == "derechohabiente"
    claimed = ana.post(f"/api/handoff/conversations/{entry['id']}/claim")
    assert claimed.status_code == 200 and claimed.json()["agent"] == "ana.derecho"
    frames_until(chat, lambda f: f["type"] == "message" and "Ya te atiende" in f["text"])

    # Written on A, pushed to the socket held by B: only Redis carries it there.
    sent = ana.post(
        f"/api/handoff/conversations/{entry['id']}/messages", {"text": "Hola, soy Ana."}
    )
    assert sent.status_code == 200
    [reply] = [f for f in frames_until(chat, lambda f: f.get("from") == "agent")]
    assert reply["text"] == "Hola, soy Ana."

    # The user's answer, received by B, is for the agent on A, not for the bot.
    assert bot_texts(chat.turn("No me aparece mi clínica")) == []
    transcript = ana.get(f"/api/handoff/conversations/{entry['id']}").json()
    assert transcript["messages"][-1]["author"] == "user"
    assert "No me aparece mi clínica" in transcript["messages"][-1]["text"]

    # Closed on A: the bot is back on B's socket and asks the survey.
    closed = ana.post(
        f"/api/handoff/conversations/{entry['id']}/close", {"disposition": "resuelto"}
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    frames = frames_until(chat, lambda f: f["type"] == "message" and f["buttons"])
    texts = " ".join(f["text"] for f in frames if f["type"] == "message")
    assert "cerró la conversación" in texts and "del 1 (muy mala) al 5" in texts
    survey = [b for f in frames if f["type"] == "message" for b in f["buttons"]]
    five = next(b for b in survey if b["title"] == "5")
    thanks = bot_texts(chat.turn("5", payload=five["payload"]))
    assert any("Gracias por tu calificación" in t for t in thanks)
    after = ana.get(f"/api/handoff/conversations/{entry['id']}").json()
    assert after["csat"] == 5 and after["disposition"] == "resuelto"
    assert "¿En qué te puedo ayudar?" in bot_texts(chat.turn("hola"))[-1]
    chat.close()

    # Everything is in PostgreSQL, written by both processes.
    kinds = [k for k in event_kinds(scaled.database_url, entry["id"]) if k != "offered"]
    assert kinds == ["queued", "assigned", "first_response", "closed", "csat"]
    with psycopg.connect(scaled.database_url) as connection:
        authors = connection.execute(
            "SELECT m.author FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " JOIN webchat_secrets s ON s.sender = c.sender"
            " WHERE c.channel = 'webchat' AND s.secret_sha256 = %s ORDER BY m.id",
            (hashlib.sha256(chat.session.encode()).hexdigest(),),
        ).fetchall()
    assert ("agent",) in authors and ("user",) in authors and ("bot",) in authors


def test_two_agents_claim_at_once_on_different_gateways(scaled: Scaled) -> None:
    pia = Staff(scaled.a, "pia.pension")
    paco = Staff(scaled.b, "paco.pension")
    sender = f"rest-{uuid.uuid4().hex}"
    asked = rest_say(scaled.b, sender, '/request_human{"campaign": "pensionados"}')
    assert "lugar 1" in asked[-1]["text"]
    entry = eventually(lambda: [e for e in pia.queue() if e["sender"].endswith(sender[-4:])])[0]

    start = threading.Barrier(2)
    results: dict[str, int] = {}

    def claim(name: str, staff: Staff) -> None:
        start.wait()
        results[name] = staff.post(f"/api/handoff/conversations/{entry['id']}/claim").status_code

    threads = [
        threading.Thread(target=claim, args=("pia.pension", pia)),
        threading.Thread(target=claim, args=("paco.pension", paco)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) == [200, 409], results
    winner = next(name for name, status in results.items() if status == 200)

    held = pia.get(f"/api/handoff/conversations/{entry['id']}").json()
    assert held["status"] == "assigned" and held["agent"] == winner
    assert event_kinds(scaled.database_url, entry["id"]).count("assigned") == 1
