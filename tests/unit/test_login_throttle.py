"""Login throttling (core/accounts/throttle.py) through the real app: failed sign-ins counted per
account and per client address; past the limit 429 with Retry-After, even for the right password,
audited; a right password forgets the account's failures; the argon2 check runs off the event
loop. Limits are small here (3 per account, 6 per address) to keep the test quick."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from core import db
from core.accounts import service
from core.settings import Settings
from ventanilla.app import create_app
from ventanilla.launcher import free_port

PASSWORD = "contraseña-de-prueba-1"
NAMES = ("ana", "beto", "carla")


async def accounts(settings: Settings) -> None:
    assert settings.database_url
    await asyncio.to_thread(db.migrate, settings.database_url)
    engine = db.create_engine(settings.database_url)
    async with db.session_factory(engine)() as session:
        for name in NAMES:
            await service.create_user(session, name, PASSWORD, "agent", ["cita_medica"])
    await engine.dispose()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None,
        var_dir=tmp_path,
        rasa_port=free_port(),
        action_port=free_port(),
        login_failures_per_account=3,
        login_failures_per_address=6,
        login_window_seconds=600,
    )
    asyncio.run(accounts(settings))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def login(client: TestClient, username: str, password: str = "equivocada-123") -> Any:
    return client.post("/api/auth/login", json={"username": username, "password": password})


def audited(tmp_path: Path, action: str) -> list[str | None]:
    with sqlite3.connect(tmp_path / "ventanilla.db") as connection:
        rows = connection.execute(
            "SELECT target FROM audit_events WHERE action = ? ORDER BY id", (action,)
        )
        return [target for (target,) in rows]


def test_an_account_past_its_failures_is_refused_even_with_the_right_password(
    client: TestClient, tmp_path: Path
) -> None:
    assert [login(client, "ana").status_code for _ in range(3)] == [401, 401, 401]
    refused = login(client, "ana", PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert "Espera unos minutos" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    assert login(client, "ANA", PASSWORD).status_code == 429  # the name's case does not help
    assert audited(tmp_path, "login_throttled") == ["ana", "ANA"]
    assert login(client, "beto", PASSWORD).status_code == 200  # another account is not held up


def test_a_right_password_forgets_the_accounts_failures(client: TestClient) -> None:
    assert [login(client, "beto").status_code for _ in range(2)] == [401, 401]
    assert login(client, "beto", PASSWORD).status_code == 200
    assert [login(client, "beto").status_code for _ in range(3)] == [401, 401, 401]
    assert login(client, "beto").status_code == 429


def test_one_address_guessing_across_accounts_is_stopped(client: TestClient) -> None:
    statuses = [login(client, name).status_code for name in NAMES * 2]  # 2 failures each
    assert statuses == [401] * 6
    assert login(client, "carla", PASSWORD).status_code == 429  # the address used its 6
    assert login(client, "nadie").status_code == 429


def test_guesses_sent_at_once_cannot_slip_past_the_limit(client: TestClient) -> None:
    """Twelve wrong passwords for one account at the same moment: each is counted before its
    password is checked, so only the account's 3 are checked; the rest are 429."""

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            body = {"username": "carla", "password": "equivocada-123"}
            answers = await asyncio.gather(
                *(http.post("/api/auth/login", json=body) for _ in range(12))
            )
        return sorted(r.status_code for r in answers)

    assert client.portal.call(burst) == [401] * 3 + [429] * 9  # type: ignore[union-attr]


def test_the_password_check_runs_off_the_event_loop(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    matches = service.password_matches

    def spy(stored: str, password: str) -> bool:
        threads.append(threading.current_thread().name)
        return matches(stored, password)

    monkeypatch.setattr(service, "password_matches", spy)
    loop_thread = client.portal.call(lambda: threading.current_thread().name)  # type: ignore[union-attr]
    assert login(client, "carla", PASSWORD).status_code == 200
    assert login(client, "desconocida").status_code == 401
    assert len(threads) == 2 and loop_thread not in threads


async def test_with_redis_every_gateway_process_counts_the_same_failures() -> None:
    """Two throttles on one Redis (the server at its standard port), as two gateway processes:
    the failures one saw hold the other back. Unique names: Redis outlives the test."""
    from uuid import uuid4

    from core.accounts.throttle import LoginThrottle, TooManyAttempts

    settings = Settings(
        _env_file=None,
        redis_url=os.environ.get("VENTANILLA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        login_failures_per_account=2,
        login_window_seconds=60,
    )
    first, second = LoginThrottle(settings), LoginThrottle(settings)
    name, address = f"prueba-{uuid4().hex}", f"10.0.{uuid4().int % 250}.{uuid4().int % 250}"
    await first.admit(name, address)
    await second.admit(name, address)
    with pytest.raises(TooManyAttempts) as refused:
        await first.admit(name, address)
    assert 1 <= refused.value.retry_after <= 60
    await second.succeeded(name)
    await first.admit(name, address)  # forgotten everywhere
