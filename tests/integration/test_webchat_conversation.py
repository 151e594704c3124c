"""The web chat against the real system: trained model, Rasa server, action server, gateway."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from connectors.webchat.client import ChatClient, bot_buttons, bot_texts
from tests.utils.staff import rest_say
from ventanilla.launcher import RunningSystem

pytestmark = pytest.mark.integration

MENU = ["Preguntas y trámites", "Cita médica", "Síntomas de COVID-19", "Hablar con una persona"]
GIBBERISH = "xjqz wpfk vvbn"


def test_first_contact_fallback_twice_and_goodbye(system: RunningSystem) -> None:
    chat = ChatClient(system.ws_url)
    assert chat.hello["restored"] is False and chat.hello["history"] == []

    frames = chat.turn("hola")
    kinds = [f["type"] for f in frames]
    assert kinds[:2] == ["ack", "typing"] and kinds[-1] == "typing"
    welcome, privacy, menu = bot_texts(frames)
    assert "Ventanilla" in welcome and "asistente virtual" in welcome
    assert (
        "Aviso de privacidad" in privacy
        and f"{system.base_url.replace('127.0.0.1', 'localhost')}/privacidad" in privacy
    )
    assert "¿En qué te puedo ayudar?" in menu
    assert [b["title"] for b in bot_buttons(frames)] == MENU

    # A second greeting does not repeat the privacy notice.
    again = bot_texts(chat.turn("buenas"))
    assert not any("privacidad" in text for text in again)

    first_miss = chat.turn(GIBBERISH)
    (question,) = bot_texts(first_miss)
    assert question.startswith("No estoy seguro de haberte entendido.")

    second_miss = chat.turn(GIBBERISH + " otra vez")
    assert bot_texts(second_miss) == [
        "Sigo sin entenderte, perdona. Puedo mostrarte el menú o comunicarte con una persona."
    ]
    assert [b["payload"] for b in bot_buttons(second_miss)] == ["/show_menu", "/request_human"]

    bye = bot_texts(chat.turn("adiós, gracias"))
    assert bye and ("Hasta luego" in bye[0] or "Con gusto" in bye[0])
    chat.close()


def test_did_you_mean_offers_the_likely_options(system: RunningSystem) -> None:
    # Forced with the intent itself: through REST, whose integrators may send intents (the web
    # chat takes only payloads the bot offered).
    sender = f"rest-{uuid.uuid4().hex}"
    rest_say(system, sender, "hola")
    [text] = [m["text"] for m in rest_say(system, sender, "/nlu_fallback")]
    assert text.startswith("No estoy seguro de haberte entendido.")
    none_of_these = rest_say(system, sender, "/nlu_fallback")
    assert "Sigo sin entenderte" in none_of_these[0]["text"]


def test_quick_reply_sends_its_payload_and_shows_its_title(system: RunningSystem) -> None:
    chat = ChatClient(system.ws_url)
    chat.turn("hola")
    frames = chat.turn("Cita médica", payload="/book_appointment")
    assert "NSS y tu CURP" in bot_texts(frames)[0]  # the booking starts
    restored = ChatClient(system.ws_url, session=chat.session)
    user_texts = [m["text"] for m in restored.hello["history"] if m["from"] == "user"]
    assert user_texts == ["hola", "Cita médica"]
    chat.close()
    restored.close()


def test_request_human_with_nobody_online_offers_a_callback(system: RunningSystem) -> None:
    chat = ChatClient(system.ws_url)
    frames = chat.turn("quiero hablar con una persona")
    (text,) = bot_texts(frames)[-1:]
    assert "no hay personas disponibles" in text
    assert [b["payload"] for b in bot_buttons(frames)] == ["/request_callback", "/show_menu"]
    # Still the bot's conversation: the next message is answered by the bot.
    assert "Soy Ventanilla" in bot_texts(chat.turn("¿eres un robot?"))[0]
    chat.close()


def test_a_script_cannot_steer_the_bot_with_payloads_it_was_not_offered(
    system: RunningSystem,
) -> None:
    """The page makes its own payloads: one the bot did not offer is read as its text, so a
    script cannot raise an emergency or pick a queue by naming an intent."""
    chat = ChatClient(system.ws_url)
    greeted = bot_texts(chat.turn("hola", payload="/emergency_heart_attack"))
    assert "asistente virtual" in greeted[0] and not any("911" in t for t in greeted)
    # Typed as an intent with a campaign, it is words: the default queue, as anyone asking.
    asked = bot_texts(chat.turn('/request_human{"campaign": "pensionados"}'))[-1]
    assert "Orientación a derechohabientes" in asked and "Pensionados" not in asked
    # The buttons the bot did offer work.
    menu = bot_buttons(chat.turn("menú", payload="/show_menu"))
    assert "/ask_question" in [b["payload"] for b in menu]
    topics = chat.turn("Preguntas y trámites", payload="/ask_question")
    assert any("pensionados" in b["payload"] for b in bot_buttons(topics))
    chat.close()


def test_reload_restores_the_whole_history(system: RunningSystem) -> None:
    chat = ChatClient(system.ws_url)
    chat.turn("hola")
    chat.turn("¿eres un robot?")
    chat.close()

    reloaded = ChatClient(system.ws_url, session=chat.session)
    assert reloaded.hello["restored"] is True and reloaded.hello["session"] != chat.session
    history = reloaded.hello["history"]
    assert [m["from"] for m in history][:1] == ["user"]
    assert [m["text"] for m in history if m["from"] == "user"] == ["hola", "¿eres un robot?"]
    assert any("asistente virtual" in m["text"] for m in history if m["from"] == "bot")
    assert [m["id"] for m in history] == sorted(m["id"] for m in history)
    reloaded.close()


def test_a_resent_message_is_a_duplicate_not_a_second_turn(system: RunningSystem) -> None:
    chat = ChatClient(system.ws_url)
    client_id = uuid.uuid4().hex
    first = chat.turn("hola", client_id=client_id)
    resent = chat.turn("hola", client_id=client_id)
    assert resent == [
        {"type": "ack", "client_id": client_id, "id": first[0]["id"], "duplicate": True}
    ]
    reloaded = ChatClient(system.ws_url, session=chat.session)
    assert [m["text"] for m in reloaded.hello["history"] if m["from"] == "user"] == ["hola"]
    chat.close()
    reloaded.close()


def test_emoji_get_an_answer(system: RunningSystem) -> None:
    chat = ChatClient(system.ws_url)
    frames = chat.turn("👋🙂 ¿qué tal? 🇲🇽")
    assert frames[0]["type"] == "ack"
    assert bot_texts(frames)  # some defined answer, not an error
    reloaded = ChatClient(system.ws_url, session=chat.session)
    assert reloaded.hello["history"][0]["text"] == "👋🙂 ¿qué tal? 🇲🇽"
    chat.close()
    reloaded.close()


def test_a_connection_dropped_mid_turn_loses_nothing(system: RunningSystem) -> None:
    chat = ChatClient(system.ws_url)
    chat.send_frame({"type": "message", "text": "hola", "payload": None, "client_id": "drop-1"})
    chat.ws.close()  # gone before the bot answers

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        back = ChatClient(system.ws_url, session=chat.session)
        history = back.hello["history"]
        back.close()
        if any(m["from"] == "bot" for m in history):
            break
        time.sleep(0.5)
    assert [m["text"] for m in history if m["from"] == "user"] == ["hola"]
    assert any("Aviso de privacidad" in m["text"] for m in history if m["from"] == "bot")


def test_bad_input_from_one_visitor_does_not_disturb_another(system: RunningSystem) -> None:
    errors: list[str] = []

    def misbehave() -> None:
        bad = ChatClient(system.ws_url)
        for frame in [
            "{roto",
            json.dumps([1, 2]),
            json.dumps({"type": "message", "text": "x" * 20_000, "client_id": "big"}),
        ]:
            bad.ws.send(frame)
            errors.append(bad.receive()["code"])
        bad.ws.send(b"\xff\xfe\xfd")
        errors.append(bad.receive()["code"])
        bad.close()

    thread = threading.Thread(target=misbehave)
    thread.start()
    good = ChatClient(system.ws_url)
    frames = good.turn("hola")
    thread.join(timeout=60)
    assert errors == ["invalid_json", "invalid_json", "message_too_long", "invalid_encoding"]
    assert len(bot_texts(frames)) == 3
    good.close()


def test_many_visitors_at_once_are_all_answered_in_order(system: RunningSystem) -> None:
    results: dict[int, list[list[str]]] = {}

    def visitor(number: int) -> None:
        chat = ChatClient(system.ws_url)
        results[number] = [bot_texts(chat.turn(text)) for text in ("hola", "menú")]
        chat.close()

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert sorted(results) == list(range(12))
    for first, second in results.values():
        assert len(first) == 3 and "Aviso de privacidad" in first[1]
        assert second == ["¿En qué te puedo ayudar? Elige una opción o escríbeme."]
