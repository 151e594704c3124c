"""A message its channel cannot take is failed for good, with the reason, and supervisors (only
they) see it, masked. Here the conversation's channel is not registered in this gateway: the
outbox's last word on it is "canal desconocido"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core import conversations as store
from core import db
from core.accounts import service as accounts
from core.settings import Settings
from ventanilla.app import create_app
from ventanilla.launcher import free_port

PASSWORD = "contraseña-de-prueba-1"


async def prepare(settings: Settings) -> None:
    assert settings.database_url
    await asyncio.to_thread(db.migrate, settings.database_url)
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    async with sessions() as session:
        await accounts.create_user(session, "sofia", PASSWORD, "supervisor", [])
        await accounts.create_user(session, "ana", PASSWORD, "agent", ["derechohabiente"])
        conversation = await store.get_or_create_conversation(session, "fax", "+52 55 1234 5678")
        store.queue_outbound(
            session,
            conversation.id,
            [{"text": "Tu NSS 12345678901 quedó registrado.", "buttons": []}],
        )
        await session.commit()
    await engine.dispose()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None, var_dir=tmp_path, rasa_port=free_port(), action_port=free_port()
    )
    asyncio.run(prepare(settings))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def bearer(client: TestClient, username: str) -> dict[str, str]:
    token = client.post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_an_undeliverable_message_is_failed_with_its_reason_and_shown_to_supervisors(
    client: TestClient,
) -> None:
    supervisor = bearer(client, "sofia")
    deadline = time.monotonic() + 10
    while True:  # the outbox's loop finds the pending message within a tick
        failed = client.get("/api/handoff/deliveries/failed", headers=supervisor)
        assert failed.status_code == 200
        if failed.json() or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    [row] = failed.json()
    assert row["channel"] == "fax" and row["error"] == "canal desconocido: fax"
    assert row["attempts"] == 1  # a channel that does not exist is not tried again
    assert "12345678901" not in row["text"] and row["text"].endswith("quedó registrado.")
    assert "1234 5678" not in row["sender"]


def test_only_supervisors_see_failed_deliveries(client: TestClient) -> None:
    assert client.get("/api/handoff/deliveries/failed").status_code == 401
    agent = client.get("/api/handoff/deliveries/failed", headers=bearer(client, "ana"))
    assert agent.status_code == 403
