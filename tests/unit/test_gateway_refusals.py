"""The gateway's answers to bad input and to a bot that is down (no Rasa runs in these tests:
its port is closed, so every call to it really fails, and is retried, then apologized for)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from core.settings import Settings
from ventanilla.app import create_app
from ventanilla.launcher import free_port


def make_client(tmp_path: Path, **overrides: object) -> TestClient:
    settings = Settings(
        _env_file=None,
        var_dir=tmp_path,
        rasa_port=free_port(),
        action_port=free_port(),
        rasa_timeout_seconds=2,
        turn_retries=1,
        turn_retry_seconds=0.05,
        **overrides,
    )
    return TestClient(create_app(settings))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path) as test_client:
        yield test_client


def stored_user_messages(tmp_path: Path) -> list[str]:
    return [text for text, _ in stored_turns(tmp_path)]


def stored_turns(tmp_path: Path) -> list[tuple[str, str]]:
    """Each stored user message with the status of its turn."""
    with sqlite3.connect(tmp_path / "ventanilla.db") as db:
        return list(db.execute("SELECT text, status FROM messages WHERE author = 'user'"))


def is_apology(message: dict) -> bool:
    titles = [button["title"] for button in message["buttons"]]
    return "no puedo responder" in message["text"] and "Hablar con una persona" in titles


def test_health_is_503_and_names_what_is_down(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "rasa": False, "action_server": False}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_message"),
        ("   \n\t ", "empty_message"),
        ("a" * 20_000, "message_too_long"),
        ("hola \ud800", "invalid_encoding"),
    ],
)
def test_rest_refuses_bad_text_and_stores_nothing(
    client: TestClient, tmp_path: Path, text: str, code: str
) -> None:
    body = json.dumps({"sender": "u1", "text": text})  # ensure_ascii keeps a lone surrogate
    response = client.post(
        "/api/messages", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]  # a sentence in Spanish for the person
    assert stored_user_messages(tmp_path) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 422),
        (b'{"sender": "u1", "text": "hola \xff\xfe"}', 400),
        (b'{"text": "hola"}', 422),
        (b"[]", 422),
        (b'{"sender": "", "text": "hola"}', 422),
    ],
)
def test_rest_answers_malformed_requests_clearly(
    client: TestClient, tmp_path: Path, body: bytes, status: int
) -> None:
    response = client.post(
        "/api/messages", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert stored_user_messages(tmp_path) == []
    assert response.json()["error"]["code"] == "invalid_request"


def test_rest_keeps_the_message_and_apologizes_when_the_bot_stays_down(
    client: TestClient, tmp_path: Path
) -> None:
    response = client.post("/api/messages", json={"sender": "u1", "text": "¿Sigue abierto? 🙂"})
    assert response.status_code == 200
    [apology] = response.json()["messages"]
    assert is_apology(apology)
    assert stored_turns(tmp_path) == [("¿Sigue abierto? 🙂", "failed")]


def test_rest_requires_the_api_key_when_configured(tmp_path: Path) -> None:
    with make_client(tmp_path, api_key="clave-de-prueba") as client:
        body = {"sender": "u1", "text": "hola"}
        assert client.post("/api/messages", json=body).status_code == 401
        wrong = client.post("/api/messages", json=body, headers={"X-API-Key": "otra"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "unauthorized"
        bearer = client.post(
            "/api/messages", json=body, headers={"Authorization": "Bearer clave-de-prueba"}
        )
        header = client.post("/api/messages", json=body, headers={"X-API-Key": "clave-de-prueba"})
        # Past the key check: the bot is down in these tests, so the apology proves the key
        # was accepted.
        assert bearer.status_code == header.status_code == 200
        assert is_apology(bearer.json()["messages"][0])
        # Reading what was sent to a sender needs the key too.
        assert client.get("/api/messages/u1").status_code == 401
        sent = client.get("/api/messages/u1", headers={"X-API-Key": "clave-de-prueba"})
        assert sent.status_code == 200
        assert [m["text"] for m in sent.json()["messages"]] == [
            bearer.json()["messages"][0]["text"],
            header.json()["messages"][0]["text"],
        ]


def test_webchat_refuses_bad_frames_and_keeps_serving(client: TestClient) -> None:
    with client.websocket_connect("/webchat/ws") as ws:
        ws.send_text(json.dumps({"type": "message", "text": "hola", "client_id": "c0"}))
        assert ws.receive_json() | {"message": ""} == {
            "type": "error",
            "code": "no_session",
            "message": "",
            "client_id": "c0",
        }
        ws.send_text("{esto no es json")
        assert ws.receive_json()["code"] == "invalid_json"
        ws.send_bytes(b'{"type": "hello", "session": "\xff\xfe"}')
        assert ws.receive_json()["code"] == "invalid_encoding"
        ws.send_text(json.dumps({"type": "subscribe"}))
        assert ws.receive_json()["code"] == "unknown_type"

        ws.send_text(json.dumps({"type": "hello", "session": "no-existe"}))
        session = ws.receive_json()
        assert session["type"] == "session" and session["restored"] is False
        assert session["session"] != "no-existe"
        assert session["notice"] == "No encontramos tu conversación anterior; empezamos una nueva."

        for text, code in [("", "empty_message"), ("x" * 20_000, "message_too_long")]:
            ws.send_text(json.dumps({"type": "message", "text": text, "client_id": "c1"}))
            error = ws.receive_json()
            assert (error["code"], error["client_id"]) == (code, "c1")

        ws.send_text(json.dumps({"type": "message", "text": "hola 👋", "client_id": "c2"}))
        ack = ws.receive_json()
        assert ack["type"] == "ack" and ack["client_id"] == "c2"
        assert ws.receive_json() == {"type": "typing", "on": True}
        apology = ws.receive_json()
        assert apology["type"] == "message" and apology["from"] == "bot" and is_apology(apology)
        assert ws.receive_json() == {"type": "typing", "on": False}

    # A new visitor still gets served, and sees the stored message after reconnecting.
    with client.websocket_connect("/webchat/ws") as ws:
        ws.send_text(json.dumps({"type": "hello", "session": session["session"]}))
        restored = ws.receive_json()
        assert restored["restored"] is True
        assert [m["text"] for m in restored["history"]] == ["hola 👋", apology["text"]]


def test_a_redelivered_message_is_stored_once(client: TestClient, tmp_path: Path) -> None:
    body = {"sender": "u1", "text": "hola", "message_id": "wamid.1"}
    first = client.post("/api/messages", json=body)
    again = client.post("/api/messages", json=body)
    # The redelivery gets the first delivery's answer (here the apology: the bot is down) ...
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and is_apology(first.json()["messages"][0])
    # ... and the message is stored, and its turn run, once.
    assert stored_turns(tmp_path) == [("hola", "failed")]
    client.post("/api/messages", json={**body, "message_id": "wamid.2"})
    assert stored_user_messages(tmp_path) == ["hola", "hola"]


def test_webchat_refuses_a_site_that_is_not_allowed(tmp_path: Path) -> None:
    with make_client(tmp_path, allowed_origins=["https://www.example.org"]) as client:
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/webchat/ws", headers={"origin": "https://otro.example"}),
        ):
            pass
        assert refused.value.code == 1008
        with client.websocket_connect(
            "/webchat/ws", headers={"origin": "https://www.example.org"}
        ) as ws:
            ws.send_text(json.dumps({"type": "hello", "session": None}))
            assert ws.receive_json()["type"] == "session"


def test_an_emergency_is_answered_with_its_alert_even_with_the_bot_down(
    client: TestClient,
) -> None:
    response = client.post(
        "/api/messages", json={"sender": "u9", "text": "mi papá no puede respirar"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["alert"] == {"kind": "respiracion"}
    assert "911" in body["messages"][0]["text"]
    sent = client.get("/api/messages/u9").json()["messages"]
    assert sent[0]["alert"] == {"kind": "respiracion"}
    # An ordinary message has no alert (here: the apology of a bot that is down).
    ordinary = client.post("/api/messages", json={"sender": "u10", "text": "hola"}).json()
    assert ordinary["alert"] is None

    with client.websocket_connect("/webchat/ws") as ws:
        ws.send_text(json.dumps({"type": "hello"}))
        assert ws.receive_json()["type"] == "session"
        ws.send_text(json.dumps({"type": "message", "text": "me kiero morir", "client_id": "e1"}))
        frames = [ws.receive_json() for _ in range(3)]  # ack, typing, the first reply
        first = next(f for f in frames if f["type"] == "message")
        assert first["alert"] == {"kind": "suicidio"} and "800 911 2000" in first["text"]
