"""Web chat sessions: the browser's secret is not the sender, it rotates at each hello, a retired
one stops working after its grace, and a session left idle ends with a notice (no Rasa here:
these tests are about opening sessions, not about turns)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient

from connectors.webchat.router import EXPIRED_SESSION_NOTICE, UNKNOWN_SESSION_NOTICE
from core.db import MIGRATIONS_DIR, migrate
from tests.unit.test_gateway_refusals import make_client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, webchat_idle_minutes=30) as test_client:
        yield test_client


def hello(client: TestClient, session: str | None) -> dict[str, Any]:
    with client.websocket_connect("/webchat/ws") as ws:
        ws.send_text(json.dumps({"type": "hello", "session": session}))
        frame = ws.receive_json()
    assert frame["type"] == "session"
    return frame


def say(client: TestClient, session: str, text: str) -> dict[str, Any]:
    """Writes on an opened session; returns the session frame of that connection."""
    with client.websocket_connect("/webchat/ws") as ws:
        ws.send_text(json.dumps({"type": "hello", "session": session}))
        opened = ws.receive_json()
        ws.send_text(json.dumps({"type": "message", "text": text, "client_id": text}))
        assert ws.receive_json()["type"] == "ack"
    return opened


def db(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "ventanilla.db")


def settle(client: TestClient) -> None:
    """Let the gateway finish what closed sockets left it (each close marks the session used)."""
    client.portal.call(client.app.state.gateway.drain, 5)


def stamp(moment: datetime) -> str:
    """A moment as SQLAlchemy writes it in SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def test_each_hello_rotates_the_secret_and_the_sender_never_leaves_the_server(
    client: TestClient, tmp_path: Path
) -> None:
    first = hello(client, None)
    assert first["restored"] is False and first["notice"] is None
    second = say(client, first["session"], "hola")
    assert second["restored"] is True and second["session"] != first["session"]
    third = hello(client, second["session"])
    assert third["restored"] is True and third["history"][0]["text"] == "hola"

    with db(tmp_path) as connection:
        (sender,) = connection.execute(
            "SELECT sender FROM conversations WHERE channel = 'webchat'"
        ).fetchone()
        stored = {row[0] for row in connection.execute("SELECT secret_sha256 FROM webchat_secrets")}
    issued = {first["session"], second["session"], third["session"]}
    assert sender not in issued
    assert stored >= {hashlib.sha256(s.encode()).hexdigest() for s in issued}
    assert not stored & issued  # only digests are kept

    # Whoever read the sender (a database dump, a log) cannot open the conversation with it.
    forged = hello(client, sender)
    assert forged["restored"] is False and forged["notice"] == UNKNOWN_SESSION_NOTICE
    assert forged["history"] == []


def test_a_replaced_secret_works_during_its_grace_then_no_more(
    client: TestClient, tmp_path: Path
) -> None:
    first = say(client, hello(client, None)["session"], "hola")["session"]
    newer = hello(client, first)
    # Another tab that reconnects with the secret just replaced still gets its conversation.
    other_tab = hello(client, first)
    assert other_tab["restored"] is True and other_tab["history"] == newer["history"]

    settle(client)
    with db(tmp_path) as connection:
        connection.execute(
            "UPDATE webchat_secrets SET valid_until = ? WHERE secret_sha256 = ?",
            (
                stamp(datetime.now(UTC) - timedelta(seconds=1)),
                hashlib.sha256(first.encode()).hexdigest(),
            ),
        )
    late = hello(client, first)
    assert late["restored"] is False and late["notice"] == UNKNOWN_SESSION_NOTICE
    # The newest secrets are not affected.
    assert hello(client, newer["session"])["restored"] is True
    assert hello(client, other_tab["session"])["restored"] is True


def test_a_session_left_idle_ends_with_a_notice_and_its_conversation_stays(
    client: TestClient, tmp_path: Path
) -> None:
    secret = say(client, hello(client, None)["session"], "mi NSS es 12345678901")["session"]
    settle(client)
    with db(tmp_path) as connection:
        connection.execute(
            "UPDATE webchat_sessions SET last_seen_at = ?",
            (stamp(datetime.now(UTC) - timedelta(minutes=31)),),
        )
    expired = hello(client, secret)
    assert expired["restored"] is False
    assert expired["notice"] == EXPIRED_SESSION_NOTICE
    assert "inactividad" in expired["notice"]
    assert expired["history"] == []  # the next person at this computer sees nothing
    # The secret is gone for good, and the new session is a conversation of its own.
    assert hello(client, secret)["notice"] == UNKNOWN_SESSION_NOTICE
    assert hello(client, expired["session"])["restored"] is True
    with db(tmp_path) as connection:
        texts = [row[0] for row in connection.execute("SELECT text FROM messages")]
        conversations = connection.execute(
            "SELECT COUNT(*) FROM conversations WHERE channel = 'webchat'"
        ).fetchone()[0]
    assert "mi NSS es 12345678901" in texts and conversations >= 2


def test_a_session_in_use_does_not_expire(client: TestClient, tmp_path: Path) -> None:
    secret = hello(client, None)["session"]
    settle(client)
    with db(tmp_path) as connection:
        connection.execute(
            "UPDATE webchat_sessions SET last_seen_at = ?",
            (stamp(datetime.now(UTC) - timedelta(minutes=29)),),
        )
    assert hello(client, secret)["restored"] is True  # 29 minutes: still there


def test_conversations_from_before_the_migration_keep_their_browser_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ventanilla.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0013")
    old_secret = "sesion-de-antes-0123456789abcdef"
    with db(tmp_path) as connection:
        connection.execute(
            "INSERT INTO conversations (key, channel, sender, mode, created_at)"
            " VALUES ('k1', 'webchat', ?, 'bot', '2026-12-01 10:00:00.000000')",
            (old_secret,),
        )
    migrate(url)
    with make_client(tmp_path) as client:
        opened = hello(client, old_secret)
    assert opened["restored"] is True and opened["session"] != old_secret
