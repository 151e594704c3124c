"""The handoff's clocks and races on a real SQLite database, with `ticker.tick(now=…)`.

The bot is a stand-in that answers nothing (as Rasa does while it restarts); what the service
says to people is read from the outbox, where it commits it before waking the postman.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from core import conversations as store
from core import db
from core.accounts import service as accounts
from core.bus import LocalBus
from core.db import utcnow
from core.locks import LocalLocks
from core.ports import ConversationRef
from core.protocol import HandoffRequest, Priority, Reply
from core.settings import Settings
from handoff.access import HandoffError
from handoff.models import AgentStatus, Handoff, HandoffEvent
from handoff.service import HandoffService
from ventanilla.launcher import free_port


class SilentBot:
    async def pause(self, conversation: ConversationRef) -> None:
        return None

    async def resume(self, conversation: ConversationRef, action: str | None) -> list[Reply]:
        return []


class Postman:
    """Records, for each wake-up, who the pending messages were for and what they said."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self.delivered: list[dict[str, Any]] = []

    async def wake(self, conversation_id: int) -> None:
        async with self.sessions() as session:
            conversation = await session.get(store.Conversation, conversation_id)
            pending = await store.pending_outbound(session, conversation_id)
            await store.mark_delivered(session, [m.id for m in pending])
            await session.commit()
        self.delivered.append(
            {"sender": conversation.sender, "messages": [m.as_dict() for m in pending]}
        )


class Harness:
    def __init__(self, service: HandoffService, sessions: Any, postman: Postman):
        self.service = service
        self.sessions = sessions
        self.delivered = postman.delivered

    async def user(self, username: str, *campaigns: str) -> Any:
        async with self.sessions() as session:
            user = await accounts.create_user(
                session, username, "contraseña-larga-1", "agent", list(campaigns)
            )
        await self.service.on_account("login", user)
        return user

    async def ask(self, sender: str, campaign: str, priority: str = "normal") -> list[dict]:
        async with self.sessions() as session:
            conversation = await store.get_or_create_conversation(session, "rest", sender)
        return await self.service.request(
            conversation.ref, HandoffRequest(campaign=campaign, priority=Priority(priority))
        )

    async def handoff(self, sender: str) -> Handoff:
        async with self.sessions() as session:
            conversation = await store.get_conversation(session, "rest", sender)
            assert conversation is not None
            result = await session.execute(
                select(Handoff).where(Handoff.conversation_id == conversation.id)
            )
            return result.scalars().all()[-1]

    async def kinds(self) -> list[str]:
        return [event.kind for event in await self.events()]

    async def events(self, kind: str | None = None) -> list[HandoffEvent]:
        async with self.sessions() as session:
            query = select(HandoffEvent).order_by(HandoffEvent.id)
            if kind is not None:
                query = query.where(HandoffEvent.kind == kind)
            return list((await session.execute(query)).scalars())


@pytest_asyncio.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    settings = Settings(
        var_dir=tmp_path,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        handoff_offer_timeout_seconds=30,
        handoff_agent_idle_seconds=600,
        handoff_queue_timeout_seconds=1800,
        handoff_max_conversations=2,
    )
    assert settings.database_url
    await asyncio.to_thread(db.migrate, settings.database_url)
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    postman = Postman(sessions)
    service = HandoffService(sessions, settings, SilentBot(), postman, LocalBus(), LocalLocks())
    yield Harness(service, sessions, postman)
    await service.stop()
    await engine.dispose()


pytestmark = pytest.mark.asyncio


async def test_urgent_goes_ahead_of_everyone_waiting(harness: Harness) -> None:
    await harness.user("ana", "salud_mental")
    first = await harness.ask("u1", "salud_mental")
    second = await harness.ask("u2", "salud_mental")
    urgent = await harness.ask("u3", "salud_mental", priority="urgent")
    assert "lugar 1" in first[0]["text"] and "lugar 2" in second[0]["text"]
    assert "lugar 1" in urgent[0]["text"]


async def test_an_offer_expires_and_goes_to_the_next_agent(harness: Harness) -> None:
    await harness.user("ana", "pensionados")
    await harness.user("beto", "pensionados")
    await harness.ask("u1", "pensionados")
    await harness.service.ticker.tick()
    offered = await harness.handoff("u1")
    assert offered.status == "offered"
    first = offered.offered_to
    # Not accepted within 30 s: back to the queue, then offered to the other agent.
    await harness.service.ticker.tick(utcnow() + timedelta(seconds=31))
    again = await harness.handoff("u1")
    assert again.status == "offered" and again.offered_to not in (None, first)
    assert first in again.declined_by
    assert (await harness.kinds()).count("offer_expired") == 1
    [expired] = await harness.events("offer_expired")
    assert expired.agent == first and expired.detail == {"why": "timeout"}


async def test_a_declined_offer_is_recorded_as_declined_and_goes_to_another_agent(
    harness: Harness,
) -> None:
    agents = {
        "ana": await harness.user("ana", "pensionados"),
        "beto": await harness.user("beto", "pensionados"),
    }
    await harness.ask("u1", "pensionados")
    await harness.service.ticker.tick()
    offered = await harness.handoff("u1")
    assert offered.status == "offered" and offered.offered_to in agents
    first = offered.offered_to
    await harness.service.desk.decline(agents[first], offered.id)
    declined = await harness.handoff("u1")
    assert declined.status == "waiting" and first in declined.declined_by
    await harness.service.ticker.tick()
    again = await harness.handoff("u1")
    assert again.status == "offered" and again.offered_to not in (None, first)
    kinds = await harness.kinds()
    assert kinds.count("offer_declined") == 1 and "offer_expired" not in kinds
    [event] = await harness.events("offer_declined")
    assert event.agent == first and event.handoff_id == offered.id
    assert event.campaign == "pensionados"


async def test_an_agent_who_goes_away_loses_their_offer(harness: Harness) -> None:
    await harness.user("ana", "pensionados")
    await harness.ask("u1", "pensionados")
    await harness.service.ticker.tick()
    assert (await harness.handoff("u1")).offered_to == "ana"
    await harness.service.presence.set_status("ana", AgentStatus.AWAY)
    back = await harness.handoff("u1")
    assert back.status == "waiting" and back.declined_by == ["ana"]
    [expired] = await harness.events("offer_expired")
    assert expired.agent == "ana" and expired.detail == {"why": "away"}
    assert "offer_declined" not in await harness.kinds()


async def test_idle_agents_become_away_and_are_offered_nothing(harness: Harness) -> None:
    await harness.user("ana", "cita_medica")
    await harness.service.ticker.tick(utcnow() + timedelta(seconds=601))
    replies = await harness.ask("u1", "cita_medica")
    assert "no hay personas disponibles" in replies[0]["text"]
    kinds = await harness.kinds()
    assert kinds.count("agent_status") == 2 and kinds[-1] == "handoff_unavailable"


async def test_nobody_answers_in_time_the_user_goes_back_to_the_bot(harness: Harness) -> None:
    agent = await harness.user("ana", "denuncias")
    await harness.ask("u1", "denuncias")
    await harness.service.presence.set_status(agent.username, AgentStatus.AWAY)
    await harness.service.ticker.tick(utcnow() + timedelta(seconds=1801))
    expired = await harness.handoff("u1")
    assert expired.status == "expired"
    async with harness.sessions() as session:
        conversation = await store.get_conversation(session, "rest", "u1")
        assert conversation is not None and conversation.mode == "bot"
    await asyncio.sleep(0.05)
    told = [m["text"] for d in harness.delivered for m in d["messages"]]
    assert any("nadie de Denuncias" in text for text in told)


async def test_users_are_told_when_their_place_halves(harness: Harness) -> None:
    agent = await harness.user("ana", "bienestar_social")
    for n in range(4):
        await harness.ask(f"u{n}", "bienestar_social")
    for n in range(2):  # the first two are answered
        await harness.service.desk.claim(agent, (await harness.handoff(f"u{n}")).id)
    harness.delivered.clear()
    await harness.service.ticker.tick()
    await asyncio.sleep(0.05)
    by_sender = {d["sender"]: [m["text"] for m in d["messages"]] for d in harness.delivered}
    assert "Ya eres el siguiente" in by_sender["u2"][0]  # was 3rd, now 1st
    assert "ahora estás en el lugar 2" in by_sender["u3"][0]  # was 4th, now 2nd


async def test_two_agents_claiming_at_once_one_wins(harness: Harness) -> None:
    ana = await harness.user("ana", "cita_medica")
    beto = await harness.user("beto", "cita_medica")
    await harness.ask("u1", "cita_medica")
    handoff = await harness.handoff("u1")
    results = await asyncio.gather(
        harness.service.desk.claim(ana, handoff.id),
        harness.service.desk.claim(beto, handoff.id),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, HandoffError)]
    assert len(errors) == 1 and errors[0].status == 409
    assert (await harness.kinds()).count("assigned") == 1


async def test_an_agent_at_capacity_cannot_take_more(harness: Harness) -> None:
    ana = await harness.user("ana", "cita_medica")
    for n in range(3):
        await harness.ask(f"u{n}", "cita_medica")
    await harness.service.desk.claim(ana, (await harness.handoff("u0")).id)
    await harness.service.desk.claim(ana, (await harness.handoff("u1")).id)
    with pytest.raises(HandoffError) as refused:
        await harness.service.desk.claim(ana, (await harness.handoff("u2")).id)
    assert refused.value.code == "at_capacity" and "máximo" in refused.value.message
