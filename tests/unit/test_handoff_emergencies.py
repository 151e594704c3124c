"""Emergencies in the queue: always queued, whoever is online; an open handoff escalated; the
supervisors' "Emergencias sin atender" (GET /api/handoff/emergencies) on a temporary database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core import conversations as store
from core import db
from core.accounts import service as accounts
from core.bus import LocalBus
from core.db import utcnow
from core.locks import LocalLocks
from core.ports import ConversationRef
from core.protocol import EmergencyKind, HandoffRequest, Intent, Priority, emergency_handoff
from core.settings import Settings
from handoff.hours import DAY_CODES, MEXICO_CITY
from handoff.models import Handoff, HandoffEvent
from handoff.service import HandoffService
from tests.unit.test_handoff_service import (  # the harness fixture and its stand-ins
    Harness,
    Postman,
    SilentBot,
    harness,  # noqa: F401
)
from ventanilla.app import create_app
from ventanilla.launcher import free_port

PASSWORD = "contraseña-de-prueba-1"


async def conversation_ref(h: Harness, sender: str) -> ConversationRef:
    async with h.sessions() as session:
        conversation = await store.get_or_create_conversation(session, "rest", sender)
        return conversation.ref


async def mode(h: Harness, sender: str) -> str:
    async with h.sessions() as session:
        conversation = await store.get_conversation(session, "rest", sender)
        assert conversation is not None
        return conversation.mode


@pytest.mark.asyncio
async def test_an_emergency_with_nobody_online_is_queued_and_the_person_told_to_call_911(
    harness: Harness,  # noqa: F811
) -> None:
    ref = await conversation_ref(harness, "+52 55 1111 2222")
    replies = await harness.service.request(ref, emergency_handoff(EmergencyKind.INFARTO))
    [reply] = replies
    assert "911" in reply["text"] and "lugar 1" in reply["text"]
    assert "Código Infarto" in reply["text"] and "en cuanto esté libre" in reply["text"]
    handoff = await harness.handoff("+52 55 1111 2222")
    assert handoff.status == "waiting" and handoff.priority == Priority.URGENT
    assert handoff.campaign == "codigo_infarto" and handoff.context == {"alert": "infarto"}
    assert await mode(harness, "+52 55 1111 2222") == "human"
    kinds = await harness.kinds()
    assert "queued" in kinds and "handoff_unavailable" not in kinds
    [queued] = await harness.events("queued")
    assert queued.detail["unattended"] == "no_agents" and queued.detail["priority"] == "urgent"


@pytest.mark.asyncio
async def test_an_emergency_outside_business_hours_is_queued_too(tmp_path: Path) -> None:
    other_day = DAY_CODES[(datetime.now(MEXICO_CITY).weekday() + 2) % 7]
    settings = Settings(
        _env_file=None,
        var_dir=tmp_path,
        handoff_hours={"salud_mental": f"{other_day} 10:00-11:00"},  # closed today
    )
    assert settings.database_url
    await asyncio.to_thread(db.migrate, settings.database_url)
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    service = HandoffService(
        sessions, settings, SilentBot(), Postman(sessions), LocalBus(), LocalLocks()
    )
    try:
        async with sessions() as session:
            conversation = await store.get_or_create_conversation(session, "rest", "u1")
        normal = await service.request(conversation.ref, HandoffRequest(campaign="salud_mental"))
        assert "no hay atención personal" in normal[0]["text"]
        urgent = await service.request(conversation.ref, emergency_handoff(EmergencyKind.SUICIDIO))
        assert "911" in urgent[0]["text"]
        async with sessions() as session:
            handoff = (await session.execute(select(Handoff))).scalar_one()
            assert handoff.priority == "urgent" and handoff.campaign == "salud_mental"
            queued = (
                await session.execute(select(HandoffEvent).where(HandoffEvent.kind == "queued"))
            ).scalar_one()
            assert queued.detail["unattended"] == "closed"
    finally:
        await service.stop()
        await engine.dispose()


@pytest.mark.asyncio
async def test_an_emergency_in_a_waiting_conversation_moves_it_first_in_the_emergency_queue(
    harness: Harness,  # noqa: F811
) -> None:
    ana = await harness.user("ana", "omt_covid", "derechohabiente")
    for sender in ("a1", "a2", "a3", "a4"):
        await harness.ask(sender, "omt_covid")
    for sender in ("a1", "a2"):  # ana is at her maximum: the others wait
        await harness.service.desk.claim(ana, (await harness.handoff(sender)).id)
    await harness.ask("u1", "derechohabiente")
    before = await harness.handoff("u1")
    assert before.priority == "normal"

    ref = await conversation_ref(harness, "u1")
    [reply] = await harness.service.request(ref, emergency_handoff(EmergencyKind.RESPIRACION))
    assert "emergencia" in reply["text"] and "911" in reply["text"] and "lugar 1" in reply["text"]
    after = await harness.handoff("u1")
    assert after.id == before.id and after.status == "waiting"
    assert after.priority == "urgent" and after.campaign == "omt_covid"
    assert (await harness.handoff("a3")).status == "waiting"  # was ahead, now behind
    assert after.reason == Intent.EMERGENCY_BREATHING and after.context["alert"] == "respiracion"
    [escalated] = await harness.events("escalated")
    assert escalated.handoff_id == after.id and escalated.campaign == "omt_covid"
    assert escalated.detail["from"]["priority"] == "normal"
    assert escalated.detail["from"]["campaign"] == "derechohabiente"
    [moved] = await harness.events("transferred")
    assert moved.detail == {"from": "derechohabiente", "why": "emergency"}
    # A second emergency message changes nothing more.
    [again] = await harness.service.request(ref, emergency_handoff(EmergencyKind.RESPIRACION))
    assert "911" in again["text"]
    assert len(await harness.events("escalated")) == 1


@pytest.mark.asyncio
async def test_an_emergency_in_an_attended_conversation_stays_with_its_agent(
    harness: Harness,  # noqa: F811
) -> None:
    ana = await harness.user("ana", "pensionados")
    await harness.ask("u1", "pensionados")
    handoff = await harness.handoff("u1")
    await harness.service.desk.claim(ana, handoff.id)
    updates: list[dict] = []
    bus = harness.service.intake._context.bus
    original = bus.publish

    async def spy(topic: str, data: dict) -> None:
        updates.append(data)
        await original(topic, data)

    bus.publish = spy  # type: ignore[method-assign]
    ref = await conversation_ref(harness, "u1")
    [reply] = await harness.service.request(ref, emergency_handoff(EmergencyKind.SUICIDIO))
    assert "persona que te atiende" in reply["text"] and "911" in reply["text"]
    after = await harness.handoff("u1")
    assert after.status == "assigned" and after.agent == "ana"
    assert after.priority == "urgent" and after.campaign == "pensionados"
    assert after.context["alert"] == "suicidio"
    [escalated] = await harness.events("escalated")
    assert escalated.agent == "ana" and escalated.detail["from"]["status"] == "assigned"
    assert {"type": "conversation", "handoff_id": after.id, "campaign": "pensionados"} in updates


@pytest.mark.asyncio
async def test_a_normal_request_in_a_waiting_conversation_only_gets_its_place(
    harness: Harness,  # noqa: F811
) -> None:
    await harness.ask("u1", "derechohabiente", priority="urgent")
    [reply] = await harness.ask("u1", "derechohabiente")
    assert "Ya estás en la fila" in reply["text"]


# ---------------------------------------------------------------- the supervisors' panel


async def prepare(settings: Settings) -> None:
    assert settings.database_url
    await asyncio.to_thread(db.migrate, settings.database_url)
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    async with sessions() as session:
        await accounts.create_user(session, "sofia", PASSWORD, "supervisor", [])
        await accounts.create_user(session, "mara", PASSWORD, "supervisor", ["salud_mental"])
        await accounts.create_user(session, "ana", PASSWORD, "agent", ["codigo_infarto"])
        rows = [
            ("+52 55 1234 5678", "codigo_infarto", "urgent", "waiting", {"alert": "infarto"}),
            ("webchat-abcdef123456789", "salud_mental", "urgent", "waiting", {}),
            ("u3", "codigo_infarto", "urgent", "assigned", {"alert": "inconsciente"}),
            ("u4", "codigo_infarto", "normal", "waiting", {}),
            ("u5", "omt_covid", "urgent", "closed", {"alert": "respiracion"}),
            # The person left before anyone took it: still shown, for a day.
            ("u6", "omt_covid", "urgent", "abandoned", {"alert": "respiracion"}),
            ("u7", "omt_covid", "urgent", "expired", {"alert": "respiracion"}),
        ]
        for sender, campaign, priority, status, context in rows:
            conversation = await store.get_or_create_conversation(session, "rest", sender)
            reason = (
                Intent.EMERGENCY_SUICIDE if campaign == "salud_mental" else Intent.REQUEST_HUMAN
            )
            session.add(
                Handoff(
                    conversation_id=conversation.id,
                    campaign=campaign,
                    priority=priority,
                    status=status,
                    reason=reason,
                    context=context,
                    agent="ana" if status == "assigned" else None,
                    declined_by=[],
                    # u7 ended two days ago: off the panel by now.
                    created_at=utcnow() - timedelta(days=2 if sender == "u7" else 0),
                )
            )
        await session.commit()
    await engine.dispose()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None, var_dir=tmp_path, rasa_port=free_port(), action_port=free_port()
    )
    asyncio.run(prepare(settings))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def bearer(client: TestClient, username: str) -> dict[str, str]:
    token = client.post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_the_panel_lists_every_unattended_emergency_in_scope_masked(client: TestClient) -> None:
    response = client.get("/api/handoff/emergencies", headers=bearer(client, "sofia"))
    assert response.status_code == 200
    rows = response.json()
    assert [r["campaign"] for r in rows] == ["codigo_infarto", "salud_mental", "omt_covid"]
    infarto, suicidio, left = rows
    assert (left["status"], left["kind"]) == ("abandoned", "respiracion")
    assert infarto["kind"] == "infarto" and infarto["reason"] == "Posible infarto"
    assert infarto["campaign_name"] == "Código Infarto" and infarto["channel"] == "rest"
    assert infarto["sender"] == "••••••5678" and infarto["status"] == "waiting"
    assert infarto["waiting_seconds"] >= 0
    # No alert: the kind is read from the intent the handoff was asked for.
    assert suicidio["kind"] == "suicidio" and suicidio["reason"] == "Riesgo suicida"
    assert "abcdef123456" not in suicidio["sender"]


def test_the_panel_follows_the_supervisors_scope_and_is_for_supervisors(
    client: TestClient,
) -> None:
    scoped = client.get("/api/handoff/emergencies", headers=bearer(client, "mara")).json()
    assert [r["campaign"] for r in scoped] == ["salud_mental"]
    agent = client.get("/api/handoff/emergencies", headers=bearer(client, "ana"))
    assert agent.status_code == 403
    assert client.get("/api/handoff/emergencies").status_code == 401


def test_queue_entries_name_the_emergency_for_agents(client: TestClient) -> None:
    queue = client.get("/api/handoff/queue", headers=bearer(client, "ana")).json()
    by_sender_end = {e["sender"][-4:]: e for e in queue}
    assert by_sender_end["5678"]["emergency"] == "Posible infarto"
    assert by_sender_end["u4"]["emergency"] is None


@pytest.mark.asyncio
async def test_an_emergency_whose_handoff_ends_meanwhile_is_queued_anew(
    harness: Harness,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from handoff import intake, queries

    await harness.user("ana", "derechohabiente")  # someone online: the request is queued
    await harness.ask("r1", "derechohabiente")
    stale = await harness.handoff("r1")
    real = queries.open_handoff
    calls = 0

    async def ended_right_after_being_read(session: Any, conversation_id: int) -> Any:
        nonlocal calls
        calls += 1
        found = await real(session, conversation_id)
        if calls == 1:  # the person leaves the queue while the emergency is being escalated
            async with harness.sessions() as other:
                handoff = await other.get(Handoff, stale.id)
                handoff.status = "abandoned"
                await other.commit()
        return found

    monkeypatch.setattr(intake.queries, "open_handoff", ended_right_after_being_read)
    ref = await conversation_ref(harness, "r1")
    [reply] = await harness.service.request(ref, emergency_handoff(EmergencyKind.SUICIDIO))
    assert "911" in reply["text"]
    async with harness.sessions() as session:
        rows = (await session.scalars(select(Handoff).order_by(Handoff.id))).all()
    assert [(h.status, h.priority, h.campaign) for h in rows] == [
        ("abandoned", "normal", "derechohabiente"),
        ("waiting", "urgent", "salud_mental"),  # nothing lost: the emergency is in the queue
    ]
