"""The safety net in the gateway's turns: an emergency is answered before anything else, in any
mode, even with Rasa down; the bot's own alert is answered the same way. Rasa is faked at the
HTTP layer (tests/unit/test_turns.py's House)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from connectors.channel import InboundMessage
from connectors.turns import RetryPolicy
from core import conversations as store
from core import db
from core.protocol import Priority, alert_message
from tests.unit.test_turns import FakeRasa, House
from triage.emergencies import LINEA_DE_LA_VIDA

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def house(tmp_path: Path) -> AsyncIterator[House]:
    url = f"sqlite:///{tmp_path / 'emergencies.db'}"
    await asyncio.to_thread(db.migrate, url)
    engine = db.create_engine(url)
    built = House(db.session_factory(engine), FakeRasa(), RetryPolicy(1, 0.01, 1))
    yield built
    await built.close()
    await engine.dispose()


async def alerts(house: House) -> list[str | None]:
    async with house.sessions() as session:
        rows = await session.scalars(
            select(store.Message).where(store.Message.author == store.Author.BOT)
        )
        return [m.alert for m in rows]


async def test_suicidal_talk_is_answered_with_the_crisis_line_without_asking_rasa(
    house: House,
) -> None:
    house.rasa.always_fail = True  # even with the bot down
    await house.send("ana", "ya no kiero vivir")
    await house.settle()
    [first, *_] = house.sent_to("ana")
    assert "911" in first and LINEA_DE_LA_VIDA in first
    assert house.rasa.received == []
    [request] = house.desk.requests
    assert (request.campaign, request.priority) == ("salud_mental", Priority.URGENT)
    assert request.summary == "ya no kiero vivir" and request.context == {"alert": "suicidio"}
    assert (await alerts(house))[0] == "suicidio"


async def test_a_low_oximeter_reading_goes_to_the_covid_doctors(house: House) -> None:
    await house.send("beto", "tengo la saturación en 84")
    await house.settle()
    assert "911" in house.sent_to("beto")[0]
    assert [r.campaign for r in house.desk.requests] == ["omt_covid"]


async def test_an_emergency_in_human_mode_is_still_answered_first(house: House) -> None:
    await house.send("caro", "hola")
    await house.settle()
    async with house.sessions() as session:
        conversation = await store.get_conversation(session, "test", "caro")
        assert conversation is not None
        conversation.mode = store.Mode.HUMAN
        await session.commit()
    await house.send("caro", "a mi papá le está dando un infarto")
    await house.settle()
    assert "911" in house.sent_to("caro")[-2]  # then the desk's answer
    assert [r.campaign for r in house.desk.requests] == ["codigo_infarto"]


async def test_figures_of_speech_and_questions_go_to_the_bot(house: House) -> None:
    for said in ("me muero de risa con tus respuestas", "¿qué es el código infarto?"):
        await house.send("dani", said)
    await house.settle()
    assert [m for _, m in house.rasa.received] == [
        "me muero de risa con tus respuestas",
        "¿qué es el código infarto?",
    ]
    assert house.desk.requests == [] and set(await alerts(house)) == {None}


async def test_a_button_payload_is_left_to_the_bot(house: House) -> None:
    # The triage form's emergency-sign buttons say "labios morados": the form answers those.
    await house.gateway.accept(
        InboundMessage(
            channel="test", sender="eva", text="Labios o cara morados", payload="/inform_sign"
        )
    )
    await house.settle()
    assert [m for _, m in house.rasa.received] == ["/inform_sign"]


async def test_the_bots_alert_is_answered_like_the_gateways_own(house: House) -> None:
    def reply(text: str) -> list[dict[str, Any]]:
        return [{"custom": alert_message("respiracion")}]  # type: ignore[arg-type]

    house.rasa.reply = reply
    await house.send("fer", "algo que solo el clasificador entendió")
    await house.settle()
    assert "911" in house.sent_to("fer")[0]
    assert [(r.campaign, r.priority, r.summary) for r in house.desk.requests] == [
        ("omt_covid", Priority.URGENT, "algo que solo el clasificador entendió")
    ]
    assert "respiracion" in await alerts(house)
