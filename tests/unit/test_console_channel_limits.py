"""The agent console's view of a conversation names its channel's limits: the characters of one
message, SMS billing, and WhatsApp's or Messenger's 24-hour window measured from the person's last
message, with whether a reply outside it goes as the approved template (GET
/api/handoff/conversations/{id} → `limits`). The handoffs are written straight to a temporary
database; no provider is called."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core import conversations as store
from core import db
from core.accounts import service as accounts
from core.db import utcnow
from core.settings import Settings
from handoff.models import Handoff, HandoffStatus
from ventanilla.app import create_app
from ventanilla.launcher import free_port

PASSWORD = "contraseña-de-prueba-1"
# channel → (sender, hours since the person's last message; None: never wrote)
PEOPLE: dict[str, tuple[str, float | None]] = {
    "whatsapp": ("whatsapp:+5215511112222", 2),
    "messenger": ("7001", 30),
    "sms": ("+525511113333", 1),
    "webchat": ("web-1", 0),
    "telegram": ("42", None),
}


async def prepare(settings: Settings) -> dict[str, int]:
    assert settings.database_url
    await asyncio.to_thread(db.migrate, settings.database_url)
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    handoffs = {}
    async with sessions() as session:
        await accounts.create_user(session, "ana", PASSWORD, "agent", ["derechohabiente"])
        for channel, (sender, hours) in PEOPLE.items():
            conversation = await store.get_or_create_conversation(session, channel, sender)
            if hours is not None:
                session.add(
                    store.Message(
                        conversation_id=conversation.id,
                        author=store.Author.USER,
                        text="quiero hablar con una persona",
                        created_at=utcnow() - timedelta(hours=hours),
                        status=store.Status.DONE,
                    )
                )
            handoff = Handoff(
                conversation_id=conversation.id,
                campaign="derechohabiente",
                status=HandoffStatus.ASSIGNED,
                agent="ana",
                assigned_at=utcnow(),
            )
            session.add(handoff)
            await session.flush()
            handoffs[channel] = handoff.id
        await session.commit()
    await engine.dispose()
    return handoffs


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, int]]]:
    settings = Settings(
        _env_file=None,
        var_dir=tmp_path,
        rasa_port=free_port(),
        action_port=free_port(),
        twilio_account_sid="AC" + "a" * 32,
        twilio_auth_token="b" * 32,
        twilio_whatsapp_from="whatsapp:+14155238886",
        twilio_sms_from="+525500000000",
        twilio_whatsapp_template="HX" + "c" * 32,
        public_base_url="https://ventanilla.example.org",
    )
    handoffs = asyncio.run(prepare(settings))
    with TestClient(create_app(settings)) as client:
        token = client.post("/api/auth/login", json={"username": "ana", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['token']}"
        yield client, handoffs


def limits(console: tuple[TestClient, dict[str, int]], channel: str) -> dict[str, Any]:
    client, handoffs = console
    response = client.get(f"/api/handoff/conversations/{handoffs[channel]}")
    assert response.status_code == 200
    body = response.json()
    assert body["channel"] == channel
    return body["limits"]


def test_whatsapp_inside_its_window_says_until_when_and_that_a_template_follows(
    console: tuple[TestClient, dict[str, int]],
) -> None:
    got = limits(console, "whatsapp")
    assert (got["name"], got["max_text_chars"], got["sms"]) == ("WhatsApp", 1600, False)
    assert got["window_hours"] == 24 and got["template"] is True
    closes = datetime.fromisoformat(got["window_closes_at"])
    assert timedelta(hours=21.9) < closes - utcnow() < timedelta(hours=22.1)  # 24 − 2 hours


def test_messenger_past_its_window_has_no_template(
    console: tuple[TestClient, dict[str, int]],
) -> None:
    got = limits(console, "messenger")
    assert (got["name"], got["max_text_chars"], got["window_hours"]) == ("Messenger", 2000, 24)
    assert datetime.fromisoformat(got["window_closes_at"]) < utcnow()  # closed six hours ago
    assert got["template"] is False


def test_sms_is_billed_per_message_and_has_no_window(
    console: tuple[TestClient, dict[str, int]],
) -> None:
    got = limits(console, "sms")
    assert (got["name"], got["sms"], got["max_text_chars"]) == ("SMS", True, 1600)
    assert got["window_hours"] is None and got["window_closes_at"] is None


def test_channels_without_limits_say_so(console: tuple[TestClient, dict[str, int]]) -> None:
    web = limits(console, "webchat")
    assert (web["name"], web["max_text_chars"], web["sms"], web["window_hours"]) == (
        "Chat web",
        None,
        False,
        None,
    )
    telegram = limits(console, "telegram")  # off here (no token), its limits still known
    assert (telegram["max_text_chars"], telegram["window_hours"]) == (4096, None)
