"""A turn survives the gateway being killed between accepting a message and answering it.

The whole system runs (Rasa, action server, gateway A). A second gateway process B shares its
database but asks a stand-in "Rasa" that says it is ready and then never answers a message, so
B is sure to be killed in the middle of the turn: the message has been committed and
acknowledged, no answer exists yet. B is killed with SIGKILL (no shutdown, no draining), and a
new gateway process B' starts on the same database with the real Rasa: it resumes the pending
turn, and the person gets the answer exactly once — web chat on reconnecting, REST through the
cursor.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connectors.webchat.client import ChatClient
from ventanilla.launcher import RunningSystem, start_gateway, stop_system

pytestmark = pytest.mark.integration


class SilentRasa(http.server.BaseHTTPRequestHandler):
    """Ready by its status, and then thinks forever about every message."""

    def do_GET(self) -> None:
        body = json.dumps({"model_id": "silencio"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.server.received.append(self.path)  # type: ignore[attr-defined]
        time.sleep(120)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def silent_rasa() -> Iterator[tuple[str, list[str]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SilentRasa)
    server.daemon_threads = True
    server.received = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", server.received  # type: ignore[attr-defined]
    server.shutdown()


def kill(gateway: RunningSystem) -> None:
    gateway.process.send_signal(signal.SIGKILL)
    gateway.process.wait(timeout=10)


def wait_until_asked(received: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not received:
        assert time.monotonic() < deadline, "the gateway never asked Rasa"
        time.sleep(0.05)


def turns(system: RunningSystem, text: str) -> list[tuple[str, str]]:
    database = Path(system.env["VENTANILLA_VAR_DIR"]) / "ventanilla.db"
    with sqlite3.connect(database) as db:
        return list(
            db.execute(
                "SELECT author, status FROM messages WHERE id >= "
                "(SELECT id FROM messages WHERE text = ? AND author = 'user') ORDER BY id",
                (text,),
            )
        )


def test_web_chat_gets_the_answer_after_the_gateway_is_killed_mid_turn(
    system: RunningSystem, silent_rasa: tuple[str, list[str]]
) -> None:
    url, received = silent_rasa
    doomed = start_gateway(system, VENTANILLA_RASA_URL=url)
    text = f"hola, ¿siguen ahí? {uuid.uuid4().hex[:6]}"
    try:
        client = ChatClient(doomed.ws_url)
        session = client.session
        client.send_frame({"type": "message", "text": text, "client_id": "c-1"})
        ack = client.receive()
        assert ack["type"] == "ack" and ack["duplicate"] is False  # committed
        wait_until_asked(received)
        kill(doomed)  # in the middle of the turn
        with contextlib.suppress(Exception):
            client.close()
    finally:
        stop_system(doomed)
    assert turns(system, text) == [("user", "pending")]

    revived = start_gateway(system)  # the real Rasa again
    try:
        deadline = time.monotonic() + 60
        while ("user", "done") not in turns(system, text):
            assert time.monotonic() < deadline, turns(system, text)
            time.sleep(0.2)
        again = ChatClient(revived.ws_url, session=session)
        history = again.hello["history"]
        again.close()
    finally:
        stop_system(revived)
    mine = [m for m in history if m["from"] == "user"]
    assert [m["text"] for m in mine] == [text]  # stored once
    answers = [m for m in history if m["from"] == "bot" and m["id"] > mine[0]["id"]]
    assert answers, history
    texts = [m["text"] for m in answers]
    assert len(texts) == len(set(texts))  # each answer once
    assert all(status == "done" for _, status in turns(system, text))


def test_rest_gets_the_answer_through_the_cursor_after_the_gateway_is_killed(
    system: RunningSystem, silent_rasa: tuple[str, list[str]]
) -> None:
    url, received = silent_rasa
    doomed = start_gateway(system, VENTANILLA_RASA_URL=url, VENTANILLA_REST_WAIT_SECONDS="1")
    sender = f"rest-{uuid.uuid4().hex}"
    try:
        accepted = httpx.post(
            f"{doomed.base_url}/api/messages",
            json={"sender": sender, "text": "hola", "message_id": "m-1"},
            timeout=30,
        )
        assert accepted.status_code == 202  # stored; the answer is not ready
        assert accepted.json()["messages"] == []
        cursor = accepted.json()["cursor"]
        wait_until_asked(received)
        kill(doomed)
    finally:
        stop_system(doomed)

    revived = start_gateway(system)
    try:
        deadline = time.monotonic() + 60
        while True:
            sent = httpx.get(
                f"{revived.base_url}/api/messages/{sender}", params={"after": cursor}, timeout=10
            ).json()
            if sent["messages"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        time.sleep(1.5)  # an outbox tick or two later, nothing is added twice
        everything = httpx.get(
            f"{revived.base_url}/api/messages/{sender}", params={"after": cursor}, timeout=10
        ).json()
        redelivered = httpx.post(
            f"{revived.base_url}/api/messages",
            json={"sender": sender, "text": "hola", "message_id": "m-1"},
            timeout=30,
        )
    finally:
        stop_system(revived)
    texts = [m["text"] for m in everything["messages"]]
    assert texts and len(texts) == len(set(texts))
    assert any("privacidad" in t for t in texts)  # the first contact's answer, once
    # The provider's retry of the same message gets that answer, not a second turn.
    assert redelivered.status_code == 200
    assert [m["text"] for m in redelivered.json()["messages"]] == texts


def test_telegram_gets_the_reply_after_the_gateway_is_killed_between_ack_and_reply(
    system: RunningSystem, silent_rasa: tuple[str, list[str]]
) -> None:
    from ventanilla.fakes.loopback import serve
    from ventanilla.fakes.telegram_api import FakeTelegramApi

    token, secret, chat = "123:ABC", "secreto-de-prueba", 5550001
    telegram = FakeTelegramApi(token)
    url, received = silent_rasa
    update = {
        "update_id": 777001,
        "message": {
            "message_id": 1,
            "date": 1764676800,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Ana"},
            "text": f"¿Dónde está mi clínica? {uuid.uuid4().hex[:6]}",
        },
    }
    with serve(telegram.app) as telegram_url:
        channel = {
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_SECRET_TOKEN": secret,
            "TELEGRAM_API_BASE": telegram_url,
        }
        doomed = start_gateway(system, VENTANILLA_RASA_URL=url, **channel)
        try:
            acknowledged = httpx.post(
                f"{doomed.base_url}/webhooks/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                timeout=30,
            )
            assert acknowledged.status_code == 200  # Telegram will not send it again
            wait_until_asked(received)
            kill(doomed)  # acknowledged, no reply yet
        finally:
            stop_system(doomed)
        assert telegram.sent(chat) == []
        assert turns(system, update["message"]["text"]) == [("user", "pending")]

        revived = start_gateway(system, **channel)
        try:
            replies = telegram.wait_for(1, chat, timeout=60)
            time.sleep(1.5)  # an outbox tick or two later, nothing is sent twice
            replies = telegram.sent(chat)
        finally:
            stop_system(revived)
    texts = [r["text"] for r in replies]
    assert texts and len(texts) == len(set(texts))
    assert all(status == "done" for _, status in turns(system, update["message"]["text"]))
