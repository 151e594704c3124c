"""Staff accounts: the CLI that creates them, login, bearer tokens and the audit trail."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.accounts.service import hash_password, password_matches
from core.settings import PROJECT_ROOT, Settings
from ventanilla.app import create_app
from ventanilla.launcher import free_port

PASSWORD = "contraseña-de-prueba-1"


def users_cli(var_dir: Path, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ventanilla.cli", "users", *args],
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "VENTANILLA_VAR_DIR": str(var_dir)},
        timeout=120,
    )


def audit(var_dir: Path) -> list[tuple[str, str | None, str | None]]:
    with sqlite3.connect(var_dir / "ventanilla.db") as db:
        return list(db.execute("SELECT action, actor, target FROM audit_events ORDER BY id"))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    created = users_cli(
        tmp_path, "create", "ana.lopez", "--role", "agent", "--campaign", "cita_medica",
        "--campaign", "omt_covid", "--password-stdin",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "Cuenta creada: ana.lopez (agent; campañas: cita_medica, omt_covid)" in created.stdout
    settings = Settings(
        _env_file=None, var_dir=tmp_path, rasa_port=free_port(), action_port=free_port()
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_passwords_are_stored_as_argon2id_hashes() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert password_matches(hashed, PASSWORD)
    assert not password_matches(hashed, PASSWORD + "x")
    assert not password_matches("not a hash", PASSWORD)


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["Ana", "--role", "agent", "--campaign", "cita_medica"], PASSWORD, "minúsculas"),
        (["ana", "--role", "agent", "--campaign", "cita_medica"], "corta", "al menos 10"),
        (["ana", "--role", "jefe"], PASSWORD, "Rol desconocido"),
        (["ana", "--role", "agent", "--campaign", "futbol"], PASSWORD, "Campaña desconocida"),
        (["ana", "--role", "agent"], PASSWORD, "al menos una campaña"),
    ],
)
def test_cli_refuses_bad_accounts_clearly(
    tmp_path: Path, args: list[str], password: str, message: str
) -> None:
    result = users_cli(tmp_path, "create", *args, "--password-stdin", password=password)
    assert result.returncode == 2
    assert message in result.stderr
    listed = users_cli(tmp_path, "list")
    assert listed.returncode == 0 and listed.stdout == ""


def test_cli_refuses_a_second_account_with_the_same_name(tmp_path: Path) -> None:
    args = ["create", "admin", "--role", "admin", "--password-stdin"]
    assert users_cli(tmp_path, *args).returncode == 0
    again = users_cli(tmp_path, *args)
    assert again.returncode == 2 and "ya existe" in again.stderr
    assert users_cli(tmp_path, "list").stdout == "admin\tadmin\t-\tactiva\n"


def test_login_gives_a_bearer_token_that_identifies_the_user(
    client: TestClient, tmp_path: Path
) -> None:
    response = client.post("/api/auth/login", json={"username": "ana.lopez", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {
        "username": "ana.lopez", "role": "agent", "campaigns": ["cita_medica", "omt_covid"]
    }  # fmt: skip
    assert ("login", "ana.lopez", None) in audit(tmp_path)
    with sqlite3.connect(tmp_path / "ventanilla.db") as db:
        (stored,) = db.execute("SELECT token_sha256 FROM api_tokens").fetchone()
    assert token not in stored


@pytest.mark.parametrize(
    ("username", "password"), [("ana.lopez", "otra-contraseña"), ("nadie", PASSWORD)]
)
def test_wrong_credentials_are_refused_and_audited(
    client: TestClient, tmp_path: Path, username: str, password: str
) -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_credentials", "message": "Usuario o contraseña incorrectos."
    }  # fmt: skip
    assert audit(tmp_path)[-1] == ("login_failed", None, username)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer inventado"}, {"Authorization": "Basic YW5hOng="}],
)
def test_me_refuses_a_missing_or_unknown_token(client: TestClient, headers: dict) -> None:
    response = client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_role_changes_are_applied_and_audited_with_before_and_after(tmp_path: Path) -> None:
    create = ["create", "luis", "--role", "agent", "--campaign", "cita_medica", "--password-stdin"]
    assert users_cli(tmp_path, *create).returncode == 0
    changed = users_cli(
        tmp_path, "set-role", "luis", "--role", "supervisor", "--campaign", "cita_medica",
        "--campaign", "salud_mental",
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert (
        users_cli(tmp_path, "list").stdout == "luis\tsupervisor\tcita_medica,salud_mental\tactiva\n"
    )
    with sqlite3.connect(tmp_path / "ventanilla.db") as db:
        (detail,) = db.execute(
            "SELECT detail FROM audit_events WHERE action = 'role_changed' AND target = 'luis'"
        ).fetchone()
    assert json.loads(detail) == {
        "before": {"role": "agent", "campaigns": ["cita_medica"]},
        "after": {"role": "supervisor", "campaigns": ["cita_medica", "salud_mental"]},
    }

    nobody = users_cli(tmp_path, "set-role", "nadie", "--role", "admin")
    assert nobody.returncode == 2 and "No existe el usuario" in nobody.stderr
    bad = users_cli(tmp_path, "set-role", "luis", "--role", "agent")
    assert bad.returncode == 2 and "al menos una campaña" in bad.stderr
    assert "luis\tsupervisor" in users_cli(tmp_path, "list").stdout
