"""What `ventanilla run` starts: Rasa and the action server on loopback only, Rasa's HTTP API
behind a token the gateway is given (the configured one, or a new one for each start)."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from ventanilla.supervisor import Service, build_services


def services(**settings: object) -> dict[str, Service]:
    built = build_services(Settings(_env_file=None, **settings), Path("modelo.tar.gz"))
    return {service.name: service for service in built}


def token_of(rasa: Service) -> str:
    command = rasa.argv
    return command[command.index("--auth-token") + 1]


def test_rasa_and_the_actions_listen_on_loopback_and_rasa_wants_a_token() -> None:
    started = services()
    rasa, actions, gateway = started["rasa"], started["actions"], started["gateway"]
    command = rasa.argv
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert actions.env["SANIC_HOST"] == "127.0.0.1"
    token = token_of(rasa)
    assert len(token) >= 32
    assert gateway.env["VENTANILLA_RASA_TOKEN"] == token
    assert "VENTANILLA_RASA_TOKEN" not in actions.env
    assert token_of(services()["rasa"]) != token  # a new one for each start


def test_a_configured_token_is_used() -> None:
    started = services(rasa_token="un-token-de-prueba-largo-1234567890")
    assert token_of(started["rasa"]) == "un-token-de-prueba-largo-1234567890"
    gateway_env = started["gateway"].env
    assert gateway_env["VENTANILLA_RASA_TOKEN"] == "un-token-de-prueba-largo-1234567890"
