"""Integrators' named API keys (`ventanilla keys …`, core/accounts/integrators.py): made and
revoked by the CLI, stored hashed, each use of the REST channel attributed in the audit log; a
gateway reachable from the network never serves the REST channel without a key."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from core.settings import PROJECT_ROOT, Settings
from ventanilla.app import create_app
from ventanilla.launcher import free_port

MESSAGES = "/api/messages/%2B525511112222"  # what was sent to a phone number: a REST read
LET_IN = 404  # past the key: nobody wrote from that number here ("unknown_sender")


def keys_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ventanilla.cli", "keys", *args],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
        env={**os.environ, "VENTANILLA_VAR_DIR": str(tmp_path)},
    )  # fmt: skip


def app(tmp_path: Path, **settings: object) -> TestClient:
    return TestClient(
        create_app(
            Settings(
                _env_file=None,
                var_dir=tmp_path,
                rasa_port=free_port(),
                action_port=free_port(),
                **settings,
            )
        )
    )


def audit(tmp_path: Path) -> list[tuple[str, str | None, str | None]]:
    with sqlite3.connect(tmp_path / "ventanilla.db") as connection:
        rows = connection.execute(
            "SELECT action, actor, target FROM audit_events WHERE action LIKE 'api_key%' "
            "ORDER BY id"
        )
        return list(rows)


def test_each_integrator_has_its_own_key_and_each_use_is_attributed(tmp_path: Path) -> None:
    made = keys_cli(tmp_path, "create", "recordatorios")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("vtn_") and len(key) > 40
    other = keys_cli(tmp_path, "create", "hospital-norte").stdout.strip().splitlines()[-1]
    again = keys_cli(tmp_path, "create", "recordatorios")
    assert again.returncode == 2 and "Ya existe una clave llamada 'recordatorios'" in again.stderr
    with sqlite3.connect(tmp_path / "ventanilla.db") as connection:
        stored = [row[0] for row in connection.execute("SELECT key_sha256 FROM integrator_keys")]
    assert key not in stored and len(stored) == 2  # only hashes

    with app(tmp_path) as http:
        assert http.get(MESSAGES).status_code == 401  # keys exist: one must be presented
        assert http.get(MESSAGES, headers={"X-API-Key": "vtn_inventada"}).status_code == 401
        assert http.get(MESSAGES, headers={"X-API-Key": key}).status_code == LET_IN
        bearer = {"Authorization": f"Bearer {other}"}
        assert http.get(MESSAGES, headers=bearer).status_code == LET_IN
        uses = [
            (actor, target) for action, actor, target in audit(tmp_path) if action == "api_key_use"
        ]
        assert uses == [
            ("recordatorios", "GET /api/messages/{sender}"),
            ("hospital-norte", "GET /api/messages/{sender}"),
        ]
        revoked = keys_cli(tmp_path, "revoke", "recordatorios")
        assert revoked.returncode == 0 and "Clave revocada: recordatorios" in revoked.stdout
        assert http.get(MESSAGES, headers={"X-API-Key": key}).status_code == 401
        assert http.get(MESSAGES, headers=bearer).status_code == LET_IN
    listed = keys_cli(tmp_path, "list").stdout
    assert "recordatorios\trevocada" in listed and "hospital-norte\tvigente" in listed
    assert key not in listed


def test_the_shared_key_still_works_and_is_named_in_the_audit_log(tmp_path: Path) -> None:
    with app(tmp_path, api_key="compartida-1234567890") as http:
        assert http.get(MESSAGES).status_code == 401
        headers = {"X-API-Key": "compartida-1234567890"}
        assert http.get(MESSAGES, headers=headers).status_code == LET_IN
    # The route is recorded, not the path with the phone number in it.
    assert audit(tmp_path) == [("api_key_use", "clave-compartida", "GET /api/messages/{sender}")]


def test_a_gateway_reachable_from_the_network_never_serves_rest_without_a_key(
    tmp_path: Path,
) -> None:
    with app(tmp_path, host="0.0.0.0") as http:
        refused = http.get(MESSAGES)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "api_key_required"
        assert "ventanilla keys create" in refused.json()["error"]["message"]
    with app(tmp_path) as http:  # on loopback (development): open
        assert http.get(MESSAGES).status_code == LET_IN
