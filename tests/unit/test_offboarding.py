"""Offboarding: an account deactivated, its password reset or its sessions revoked, from the CLI
(`ventanilla users …`) and the admin API (`/api/admin/users`); every change audited. An open
console event stream ends within its account check when the account changes, survives quiet
minutes (keep-alives), and only carries the events of the reader's campaigns."""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

import handoff.router
from core import db
from core.accounts import service
from core.settings import PROJECT_ROOT, Settings
from ventanilla.app import create_app
from ventanilla.fakes.loopback import serve
from ventanilla.launcher import free_port

PASSWORD = "contraseña-de-prueba-1"
NEW_PASSWORD = "otra-contraseña-larga-2"


def settings_for(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None, var_dir=tmp_path, rasa_port=free_port(), action_port=free_port()
    )


async def prepare(settings: Settings) -> None:
    assert settings.database_url
    await asyncio.to_thread(db.migrate, settings.database_url)
    engine = db.create_engine(settings.database_url)
    async with db.session_factory(engine)() as session:
        await service.create_user(session, "alba", PASSWORD, "admin", [])
        await service.create_user(session, "ana", PASSWORD, "agent", ["cita_medica"])
        await service.create_user(session, "carla", PASSWORD, "agent", ["cita_medica"])
        await service.create_user(session, "beto", PASSWORD, "agent", ["denuncias"])
    await engine.dispose()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = settings_for(tmp_path)
    asyncio.run(prepare(settings))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def bearer(client: Any, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def users_cli(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ventanilla.cli", "users", *args],
        input=stdin, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
        env={**os.environ, "VENTANILLA_VAR_DIR": str(tmp_path)},
    )  # fmt: skip


def audit(tmp_path: Path, action: str) -> list[tuple[str | None, str | None]]:
    with sqlite3.connect(tmp_path / "ventanilla.db") as connection:
        rows = connection.execute(
            "SELECT actor, target FROM audit_events WHERE action = ? ORDER BY id", (action,)
        )
        return list(rows)


def test_the_cli_deactivates_an_account_and_its_sessions_end(
    client: TestClient, tmp_path: Path
) -> None:
    token = bearer(client, "ana")
    assert client.get("/api/auth/me", headers=token).status_code == 200
    done = users_cli(tmp_path, "deactivate", "ana")
    assert done.returncode == 0, done.stderr
    assert "Cuenta desactivada; sus sesiones terminaron: ana" in done.stdout
    assert client.get("/api/auth/me", headers=token).status_code == 401
    refused = client.post("/api/auth/login", json={"username": "ana", "password": PASSWORD})
    assert refused.status_code == 401
    assert audit(tmp_path, "account_deactivated") == [("cli", "ana")]
    assert users_cli(tmp_path, "activate", "ana").returncode == 0
    assert client.get("/api/auth/me", headers=bearer(client, "ana")).status_code == 200
    missing = users_cli(tmp_path, "deactivate", "nadie")
    assert missing.returncode == 2 and "No existe el usuario 'nadie'" in missing.stderr


def test_the_cli_resets_a_password_and_revokes_tokens(client: TestClient, tmp_path: Path) -> None:
    old = bearer(client, "carla")
    short = users_cli(tmp_path, "reset-password", "carla", "--password-stdin", stdin="corta\n")
    assert short.returncode == 2 and "al menos 10 caracteres" in short.stderr
    reset = users_cli(
        tmp_path, "reset-password", "carla", "--password-stdin", stdin=NEW_PASSWORD + "\n"
    )
    assert reset.returncode == 0, reset.stderr
    assert client.get("/api/auth/me", headers=old).status_code == 401
    wrong = client.post("/api/auth/login", json={"username": "carla", "password": PASSWORD})
    assert wrong.status_code == 401
    first, second = bearer(client, "carla", NEW_PASSWORD), bearer(client, "carla", NEW_PASSWORD)
    revoked = users_cli(tmp_path, "revoke-tokens", "carla")
    assert revoked.returncode == 0 and "Sesiones terminadas de carla: 2" in revoked.stdout
    assert [client.get("/api/auth/me", headers=h).status_code for h in (first, second)] == [401] * 2
    assert audit(tmp_path, "password_reset") == [("cli", "carla")]
    assert audit(tmp_path, "tokens_revoked") == [("cli", "carla")]


def test_the_admin_api_offboards_and_only_admins_may_use_it(
    client: TestClient, tmp_path: Path
) -> None:
    admin, agent = bearer(client, "alba"), bearer(client, "ana")
    assert client.get("/api/admin/users", headers=agent).status_code == 403
    assert client.get("/api/admin/users").status_code == 401
    listed = client.get("/api/admin/users", headers=admin).json()
    assert [a["username"] for a in listed] == ["alba", "ana", "beto", "carla"]
    assert all("password" not in str(a) for a in listed)

    off = client.put("/api/admin/users/ana/active", json={"active": False}, headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get("/api/auth/me", headers=agent).status_code == 401
    assert audit(tmp_path, "account_deactivated") == [("alba", "ana")]

    own = client.put("/api/admin/users/alba/active", json={"active": False}, headers=admin)
    assert own.status_code == 409 and own.json()["error"]["code"] == "own_account"
    short = client.put("/api/admin/users/beto/password", json={"password": "x"}, headers=admin)
    assert short.status_code == 400 and "al menos 10" in short.json()["error"]["message"]
    unknown = client.post("/api/admin/users/nadie/revoke-tokens", headers=admin)
    assert unknown.status_code == 404
    new = client.put(
        "/api/admin/users/beto/password", json={"password": NEW_PASSWORD}, headers=admin
    )
    assert new.status_code == 200
    assert bearer(client, "beto", NEW_PASSWORD)
    assert audit(tmp_path, "password_reset") == [("alba", "beto")]


class Stream:
    """`GET /api/handoff/events` read line by line in a thread of its own."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with httpx.stream("GET", f"{url}/api/handoff/events", headers=headers, timeout=60) as r:
                for line in r.iter_lines():
                    self.lines.put(line)
        except httpx.HTTPError:
            pass
        self.lines.put(None)  # the stream ended

    def until(self, wanted: str, timeout: float = 15) -> list[str]:
        """Lines up to the first one containing `wanted` (AssertionError if it never comes)."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the stream ended before {wanted!r}: {seen}")
            seen.append(line)
            if wanted in line:
                return seen
        raise AssertionError(f"no {wanted!r} in {seen}")

    def ended(self, timeout: float = 15) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.lines.get(timeout=0.1) is None:
                    return True
            except queue.Empty:
                continue
        return False


def test_the_event_stream_outlives_quiet_spells_and_ends_when_its_account_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handoff.router, "KEEPALIVE_SECONDS", 0.2)
    monkeypatch.setattr(handoff.router, "ACCOUNT_CHECK_SECONDS", 0.5)
    settings = settings_for(tmp_path)
    asyncio.run(prepare(settings))
    with serve(create_app(settings), lifespan="on") as url:
        with httpx.Client(base_url=url) as http:
            ana, carla, beto, admin = (bearer(http, n) for n in ("ana", "carla", "beto", "alba"))
        stream = Stream(url, ana)
        before = stream.until(": keep-alive")
        time.sleep(1.5)  # several quiet keep-alive periods: the subscription must survive them
        # Beto (another campaign) goes away, then Carla (Ana's campaign): Ana hears of Carla only.
        for who in (beto, carla):
            response = httpx.put(f"{url}/api/handoff/me/status", json={"status": "away"},
                                 headers=who)  # fmt: skip
            assert response.status_code == 204
        heard = stream.until("event: presence")
        data = next(line for line in stream.until("data:"))
        assert '"agent": "carla"' in data and "beto" not in "".join(before + heard)
        off = httpx.put(f"{url}/api/admin/users/ana/active", json={"active": False}, headers=admin)
        assert off.status_code == 200
        stream.until("event: account")
        assert stream.ended()


def test_a_session_left_idle_ends(client: TestClient, tmp_path: Path) -> None:
    """Unused for longer than VENTANILLA_SESSION_IDLE_MINUTES (60): the token no longer opens
    anything, and the end is audited. Use within the hour keeps it."""
    idle, busy = bearer(client, "ana"), bearer(client, "carla")
    with sqlite3.connect(tmp_path / "ventanilla.db") as connection:
        connection.execute(
            "UPDATE api_tokens SET last_used_at = datetime('now', '-61 minutes') "
            "WHERE user_id = (SELECT id FROM users WHERE username = 'ana')"
        )
        connection.execute(
            "UPDATE api_tokens SET last_used_at = datetime('now', '-59 minutes') "
            "WHERE user_id = (SELECT id FROM users WHERE username = 'carla')"
        )
    assert client.get("/api/auth/me", headers=idle).status_code == 401
    assert client.get("/api/auth/me", headers=idle).status_code == 401  # and stays ended
    assert client.get("/api/auth/me", headers=busy).status_code == 200
    with sqlite3.connect(tmp_path / "ventanilla.db") as connection:
        [(recent,)] = connection.execute(
            "SELECT last_used_at >= datetime('now', '-1 minutes') FROM api_tokens "
            "WHERE user_id = (SELECT id FROM users WHERE username = 'carla')"
        )
    assert recent == 1  # the use was written down
    assert audit(tmp_path, "session_idle") == [("ana", None)]
