"""A payload steers the bot only when it is a button the bot offered: the web chat's page makes
its own payloads, so a script could send "/emergency_heart_attack" and jump the queue as urgent.
A typed "/intent" is words on every channel but REST, whose integrators send button payloads as
text. Rasa is faked at the HTTP layer (tests/unit/test_turns.py's House)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from connectors.channel import InboundMessage
from connectors.registry import CHANNELS
from connectors.turns import RetryPolicy
from core import db
from tests.unit.test_turns import FakeRasa, House

YES_NO = [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


@pytest_asyncio.fixture
async def house(tmp_path: Path) -> AsyncIterator[House]:
    url = f"sqlite:///{tmp_path / 'payloads.db'}"
    await asyncio.to_thread(db.migrate, url)
    engine = db.create_engine(url)
    built = House(db.session_factory(engine), FakeRasa(), RetryPolicy(1, 0.01, 1))
    built.rasa.reply = lambda text: [{"text": "¿Algo más?", "buttons": YES_NO}]
    yield built
    await built.close()
    await engine.dispose()


async def press(house: House, sender: str, title: str, payload: str) -> None:
    await house.gateway.accept(InboundMessage("test", sender, title, payload=payload))
    await house.settle()


def asked(house: House) -> list[str]:
    return [text for _, text in house.rasa.received]


async def test_on_the_web_chat_a_payload_nobody_offered_is_read_as_its_text(
    house: House,
) -> None:
    house.channel.payloads_from_client = True  # as the web chat
    await press(house, "eva", "hola", "/emergency_heart_attack")
    await press(house, "eva", "Hablar con una persona", '/request_human{"campaign": "x"}')
    assert asked(house) == ["hola", "Hablar con una persona"]
    assert house.desk.requests == []


async def test_on_the_web_chat_an_offered_button_is_taken(house: House) -> None:
    house.channel.payloads_from_client = True
    await house.send("eva", "hola")
    await house.settle()
    await press(house, "eva", "Sí", "/affirm")
    assert asked(house) == ["hola", "/affirm"]
    # Only the buttons of the last messages count: one offered then, not now, is text.
    house.rasa.reply = lambda text: [{"text": "Listo."}] * 10
    await house.send("eva", "gracias")
    await house.settle()
    await press(house, "eva", "No", "/deny")
    assert asked(house)[-1] == "No"


async def test_a_picture_is_still_a_picture_on_the_web_chat(house: House) -> None:
    house.channel.payloads_from_client = True
    await press(house, "eva", "(envió una imagen)", "/media:imagen")
    assert asked(house) == [] and "Recibí tu imagen" in house.sent_to("eva")[0]
    # A media payload that names no kind is no media: read as text.
    await press(house, "eva", "(envió una foto)", "/media:foto")
    assert asked(house) == ["(envió una foto)"]


@pytest.mark.parametrize("typed", ["/request_human", '/request_human{"campaign": "x"}', "/"])
async def test_a_typed_intent_is_words_on_messaging_channels(house: House, typed: str) -> None:
    accepted = await house.send("beto", typed)
    await house.settle()
    [said] = asked(house)
    assert not said.startswith("/")
    assert house.desk.requests == []
    # What the person wrote is stored as written.
    statuses = await house.statuses()
    assert ("user", typed, "done") in statuses and accepted.message.text == typed


async def test_a_typed_offered_payload_counts_as_that_button(house: House) -> None:
    # Some clients put a button's payload in the text: when the bot offered it, it counts.
    await house.send("caro", "hola")
    await house.settle()
    await house.send("caro", "/deny")
    await house.settle()
    assert asked(house) == ["hola", "/deny"]


async def test_rest_integrators_send_payloads_as_text(house: House) -> None:
    house.channel.slash_intents = True  # as the REST channel
    await house.send("dani", '/request_human{"campaign": "pensionados"}')
    await house.settle()
    assert asked(house) == ['/request_human{"campaign": "pensionados"}']


def test_the_channels_rules() -> None:
    rules = {c.name: (c.payloads_from_client, c.slash_intents) for c in CHANNELS}
    assert rules.pop("webchat") == (True, False)
    assert rules.pop("rest") == (False, True)
    assert set(rules.values()) == {(False, False)}  # the providers' channels
