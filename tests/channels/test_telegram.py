"""The Telegram channel through the whole gateway (`create_app`): updates posted to its webhook as
Telegram posts them, replies at a fake Bot API on loopback reached by `python-telegram-bot`
itself, Rasa faked at the HTTP layer (`ventanilla/fakes/rasa.py`). The update bodies are
`fixtures/telegram/*.json`, shaped as the Bot API documents each event."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors import media
from connectors.telegram.router import MAX_TEXT, set_webhook
from connectors.telegram.updates import callback_data
from core.settings import Settings
from tests.channels.harness import Database, gateway_settings, wait_until
from ventanilla.app import create_app
from ventanilla.fakes.loopback import serve
from ventanilla.fakes.rasa import LONG_PAYLOAD, FakeRasa, long_text
from ventanilla.fakes.telegram_api import FakeTelegramApi

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET = "s3cr3t-de-prueba_1"
CHAT = 1111111


def fixture(name: str, update_id: int | None = None, chat: int = CHAT) -> dict[str, Any]:
    update = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    if update_id is not None:
        update["update_id"] = update_id
    for key in ("message", "edited_message"):
        if key in update:
            update[key]["chat"]["id"] = chat
            update[key]["from"]["id"] = chat
    if "callback_query" in update:
        update["callback_query"]["message"]["chat"]["id"] = chat
        update["callback_query"]["from"]["id"] = chat
    return update


def text_update(text: str, update_id: int, chat: int = CHAT) -> dict[str, Any]:
    update = fixture("message_text", update_id, chat)
    update["message"]["text"] = text
    return update


class Setup(Database):
    def __init__(self, client: TestClient, telegram: FakeTelegramApi, rasa: FakeRasa, db: Path):
        super().__init__(db)
        self.client = client
        self.telegram = telegram
        self.rasa = rasa

    def post(self, update: Any, secret: str | None = SECRET, raw: bytes | None = None) -> Any:
        headers = {"content-type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = raw if raw is not None else json.dumps(update).encode()
        return self.client.post("/webhooks/telegram", content=body, headers=headers)


def settings_for(tmp_path: Path, telegram_url: str, rasa_url: str) -> Settings:
    return gateway_settings(
        tmp_path,
        rasa_url,
        telegram_bot_token=TOKEN,
        telegram_secret_token=SECRET,
        telegram_api_base=telegram_url,
    )


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    telegram, rasa = FakeTelegramApi(TOKEN), FakeRasa()
    with serve(telegram.app) as telegram_url, serve(rasa.app) as rasa_url:
        settings = settings_for(tmp_path, telegram_url, rasa_url)
        with TestClient(create_app(settings)) as client:
            yield Setup(client, telegram, rasa, tmp_path / "ventanilla.db")


# ------------------------------------------------------------------------ in and out


def test_a_message_reaches_the_bot_and_the_reply_reaches_the_chat_intact(setup: Setup) -> None:
    update = fixture("message_text")
    response = setup.post(update)
    assert response.status_code == 200 and response.json() == {"ok": True}
    sent = setup.telegram.wait_for(1, CHAT)
    said = update["message"]["text"]
    assert sent[0]["text"] == f"Recibí: {said}"  # ¡, ¿, accents and ñ both ways
    assert setup.rasa.received == [(setup.rasa.received[0][0], said)]
    assert "sendChatAction" in setup.telegram.methods()


def test_start_is_a_greeting_and_a_typed_command_is_words(setup: Setup) -> None:
    """Telegram sends "/start" when a person opens the bot; other "/…" typed are no intents."""
    setup.post(text_update("/start campania-radio", 501))
    setup.telegram.wait_for(1, CHAT)
    setup.post(text_update("/request_human", 502))
    setup.telegram.wait_for(2, CHAT)
    assert setup.rasa.messages() == ["hola", "request_human"]


@pytest.mark.parametrize("secret", [None, "otro-secreto", SECRET + "x", ""])
def test_a_missing_or_wrong_secret_is_403_and_nothing_is_stored(
    setup: Setup, secret: str | None
) -> None:
    response = setup.post(fixture("message_text"), secret=secret)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    time.sleep(0.2)
    assert setup.stored() == [] and setup.rasa.received == [] and setup.telegram.sent() == []


def test_a_repeated_update_is_answered_once(setup: Setup) -> None:
    update = text_update("¿dónde está mi clínica?", 20000)
    assert [setup.post(update).status_code for _ in range(3)] == [200, 200, 200]
    setup.telegram.wait_for(1, CHAT)
    time.sleep(0.3)
    assert len(setup.telegram.sent(CHAT)) == 1
    assert setup.rasa.messages() == ["¿dónde está mi clínica?"]
    assert [row for row in setup.stored() if row[0] == "user"] == [
        ("user", None, "¿dónde está mi clínica?")
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{esto no es json", "invalid_update"),
        (json.dumps({"message": {"text": "sin update_id"}}).encode(), "invalid_update"),
        (json.dumps(["una", "lista"]).encode(), "invalid_update"),
    ],
)
def test_a_body_that_is_not_an_update_is_400(setup: Setup, body: bytes, code: str) -> None:
    response = setup.post(None, raw=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert setup.stored() == []


def test_an_edited_message_is_not_a_new_turn(setup: Setup) -> None:
    response = setup.post(fixture("edited_message"))
    assert response.status_code == 200 and response.json()["ignored"] is True
    time.sleep(0.3)
    assert setup.stored() == [] and setup.rasa.received == [] and setup.telegram.sent() == []


# ------------------------------------------------------------------------ buttons


def test_buttons_become_an_inline_keyboard_and_a_press_sends_the_payload(setup: Setup) -> None:
    setup.post(text_update("botones", 30000))
    sent = setup.telegram.wait_for(1, CHAT)
    rows = sent[0]["reply_markup"]["inline_keyboard"]
    assert [[button["text"] for button in row] for row in rows] == [
        ["Sí"],
        ["Pensión por cesantía"],
    ]
    bot_message = setup.outbound()[0][0]
    datas = [row[0]["callback_data"] for row in rows]
    assert datas == [callback_data(bot_message, 0), callback_data(bot_message, 1)]
    assert all(len(data.encode()) <= 64 for data in datas)  # Telegram's limit
    assert len(LONG_PAYLOAD.encode()) > 64  # so the payload could not travel itself

    press = fixture("callback_query", 30001)
    press["callback_query"]["data"] = datas[1]
    assert setup.post(press).status_code == 200
    sent = setup.telegram.wait_for(2, CHAT)
    assert sent[1]["text"] == f"Elegiste {LONG_PAYLOAD}"
    assert setup.rasa.messages() == ["botones", LONG_PAYLOAD]
    assert ("user", LONG_PAYLOAD, "Pensión por cesantía") in setup.stored()
    wait_until(lambda: "answerCallbackQuery" in setup.telegram.methods())


@pytest.mark.parametrize("data", ["b:999999:0", "b:1:7", "cualquier-cosa", "b:x:y"])
def test_a_press_of_a_button_we_did_not_send_is_refused_politely(setup: Setup, data: str) -> None:
    setup.post(text_update("botones", 31000))
    setup.telegram.wait_for(1, CHAT)
    press = fixture("callback_query", 31001)
    press["callback_query"]["data"] = data if data != "b:1:7" else f"b:{setup.outbound()[0][0]}:7"
    response = setup.post(press)
    assert response.status_code == 200 and response.json()["ignored"] is True
    sent = setup.telegram.wait_for(2, CHAT)
    assert sent[1]["text"].startswith("Esa opción ya no está disponible")
    assert setup.rasa.messages() == ["botones"]


def test_a_button_of_another_chat_is_not_honoured(setup: Setup) -> None:
    setup.post(text_update("botones", 32000))
    setup.telegram.wait_for(1, CHAT)
    press = fixture("callback_query", 32001, chat=2222222)
    press["callback_query"]["data"] = callback_data(setup.outbound()[0][0], 0)
    assert setup.post(press).json()["ignored"] is True
    assert setup.rasa.messages() == ["botones"]


# ------------------------------------------------------------------------ rendering


def test_a_long_answer_is_split_at_telegrams_limit_without_cutting_words(setup: Setup) -> None:
    setup.post(text_update("largo", 40000))
    sent = setup.telegram.wait_for(3, CHAT)
    parts = [message["text"] for message in sent]
    assert len(parts) == 3 and all(len(part) <= MAX_TEXT for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(long_text().split())
    for part in parts[:-1]:  # each cut falls at a space or a line break
        assert not part[-1].isspace()
    original_words = set(long_text().split())
    assert all(set(part.split()) <= original_words for part in parts)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("message_photo", media.Media.IMAGE),
        ("message_sticker", media.Media.STICKER),
        ("message_location", media.Media.LOCATION),
        ("message_voice", media.Media.AUDIO),
        ("message_document", media.Media.DOCUMENT),
    ],
)
def test_media_gets_a_polite_answer_without_the_bot(
    setup: Setup, name: str, kind: media.Media
) -> None:
    setup.post(fixture(name))
    sent = setup.telegram.wait_for(1, CHAT)
    assert sent[0]["text"] == media.REPLIES[kind]
    assert setup.rasa.received == []
    assert setup.stored()[0] == ("user", f"/media:{kind.value}", media.SENT[kind])


def test_a_too_long_message_is_refused_with_the_reason_and_not_stored(setup: Setup) -> None:
    response = setup.post(text_update("a" * 5000, 41000))
    assert response.status_code == 200 and response.json()["refused"] == "message_too_long"
    sent = setup.telegram.wait_for(1, CHAT)
    assert "demasiado largo" in sent[0]["text"]
    assert setup.stored() == []


# ------------------------------------------------------------------------ delivery


def test_a_refusal_is_final_and_recorded_with_its_reason(setup: Setup) -> None:
    setup.telegram.fail_next(403, "Forbidden: bot was blocked by the user")
    setup.post(text_update("hola", 50000))
    wait_until(lambda: setup.first_outbound_status() == "failed")
    _, status, error, _ = setup.outbound()[0]
    assert status == "failed" and "blocked by the user" in error
    assert len(setup.telegram.sent(CHAT)) == 1  # tried once: retrying cannot help


def test_a_provider_error_is_retried_and_the_reply_arrives_once(setup: Setup) -> None:
    setup.telegram.fail_next(502, "Bad Gateway", times=2)
    setup.post(text_update("hola", 51000))
    wait_until(lambda: setup.first_outbound_status() == "done")
    attempts = setup.telegram.sent(CHAT)
    assert [m["text"] for m in attempts] == ["Recibí: hola"] * 3  # two failures, then delivered


# ------------------------------------------------------------------------ many at once


def test_a_burst_over_many_chats_is_answered_once_each_and_in_order(setup: Setup) -> None:
    chats = [3_000_000 + n for n in range(12)]
    per_chat = 5
    updates = [
        text_update(f"mensaje {k} de {chat}", 60000 + i, chat)
        for i, (k, chat) in enumerate((k, chat) for k in range(per_chat) for chat in chats)
    ]

    async def burst() -> list[int]:
        import httpx

        transport = httpx.ASGITransport(app=setup.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            responses = await asyncio.gather(
                *(client.post("/webhooks/telegram", json=u, headers=headers) for u in updates),
                *(  # and every one delivered twice, as a provider's retry would
                    client.post("/webhooks/telegram", json=copy.deepcopy(u), headers=headers)
                    for u in updates[::3]
                ),
            )
        return [r.status_code for r in responses]

    statuses = setup.client.portal.call(burst)  # type: ignore[union-attr]
    assert set(statuses) == {200}
    for chat in chats:
        setup.telegram.wait_for(per_chat, chat)
    time.sleep(0.2)
    for chat in chats:
        # Concurrent posts arrive in any order; the gateway answers each chat's messages once,
        # one at a time, in the order it accepted them.
        accepted = setup.user_texts(str(chat))
        assert sorted(accepted) == [f"mensaje {k} de {chat}" for k in range(per_chat)]
        assert [m["text"] for m in setup.telegram.sent(chat)] == [f"Recibí: {t}" for t in accepted]


# ------------------------------------------------------------------------ set-up


def test_the_channel_is_off_without_its_credentials(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, var_dir=tmp_path, telegram_bot_token=TOKEN)
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/webhooks/telegram",
            json=fixture("message_text"),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "channel_off"


def test_set_webhook_registers_the_public_url_with_the_secret(tmp_path: Path) -> None:
    telegram = FakeTelegramApi(TOKEN)
    with serve(telegram.app) as telegram_url:
        settings = settings_for(tmp_path, telegram_url, "http://127.0.0.1:9")
        url = asyncio.run(set_webhook(settings))
    assert url == "https://ventanilla.example.org/webhooks/telegram"
    call = next(c for c in telegram.calls if c.method == "setWebhook")
    assert call.params["url"] == url
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]


def test_the_command_registers_the_webhook_or_says_what_is_missing(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from core.settings import PROJECT_ROOT

    telegram = FakeTelegramApi(TOKEN)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "VENTANILLA_"))}
    base["VENTANILLA_VAR_DIR"] = str(tmp_path)

    def run(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ventanilla.cli", "channels", "telegram-webhook"],
            cwd=PROJECT_ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    missing = run(TELEGRAM_BOT_TOKEN=TOKEN)
    assert missing.returncode == 2 and "TELEGRAM_SECRET_TOKEN" in missing.stderr
    with serve(telegram.app) as telegram_url:
        done = run(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_SECRET_TOKEN=SECRET,
            TELEGRAM_API_BASE=telegram_url,
            PUBLIC_BASE_URL="https://chat.example.org",
        )
    assert done.returncode == 0, done.stderr
    assert "https://chat.example.org/webhooks/telegram" in done.stdout
    assert [c.params["url"] for c in telegram.calls if c.method == "setWebhook"] == [
        "https://chat.example.org/webhooks/telegram"
    ]
