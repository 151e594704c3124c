"""The day-before reminders (appointments/reminders.py) with the clock in the test's hands: one
message per appointment of tomorrow booked in a conversation, to that conversation's channel,
only in sending hours, never twice, and again after a failed send."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest_asyncio
from sqlalchemy import select, update

from appointments import seed
from appointments.booking import TZ
from appointments.builtin import DatabaseRegistry, DatabaseSchedule, slot_view
from appointments.models import Affiliate, Appointment, Slot, Status
from appointments.reminders import send_reminders
from core import conversations as store
from core import db
from tests.unit.test_turns import database  # noqa: F401 (the fixture)

TODAY = date(2026, 12, 8)  # a Tuesday: tomorrow has slots
AT_TEN = datetime.combine(TODAY, time(10, 0), tzinfo=TZ)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.fail = False

    async def __call__(self, channel: str, sender: str, text: str) -> None:
        if self.fail:
            raise RuntimeError("the outbox is down")
        self.sent.append((channel, sender, text))


@pytest_asyncio.fixture
async def booked(database: Any) -> AsyncIterator[tuple[Any, list[str]]]:  # noqa: F811
    """Four appointments: tomorrow in a WhatsApp conversation, tomorrow with no conversation,
    tomorrow cancelled, the day after tomorrow."""
    sessions = db.session_factory(database)
    async with sessions() as session:
        await seed.seed_demo(session, 3, TODAY)
        chat = await store.get_or_create_conversation(
            session, "whatsapp", "whatsapp:+5215512345678"
        )
        key = chat.key
        people = list(
            await session.scalars(
                select(Affiliate).where(Affiliate.coverage_until >= TODAY).order_by(Affiliate.id)
            )
        )
    registry, schedule = DatabaseRegistry(sessions), DatabaseSchedule(sessions)
    folios = []
    for n, (days, conversation) in enumerate([(1, key), (1, None), (1, key), (2, key)]):
        person = await registry.find(people[n * 7].nss, people[n * 7].curp)
        assert person is not None
        day = TODAY + timedelta(days=days)
        async with sessions() as session:
            slot = await session.scalar(
                select(Slot)
                .where(
                    Slot.umf_id == person.umf_id,
                    Slot.shift == person.shift,
                    Slot.service == "medicina_familiar",
                    Slot.starts_at >= datetime.combine(day, time(), tzinfo=TZ),
                )
                .order_by(Slot.starts_at)
            )
        assert slot is not None
        made = await schedule.book(person, slot_view(slot), conversation)
        folios.append(made.folio)
    async with sessions() as session:
        await session.execute(
            update(Appointment)
            .where(Appointment.folio == folios[2])
            .values(status=Status.CANCELLED)
        )
        await session.commit()
    yield sessions, folios


async def test_one_reminder_per_appointment_of_tomorrow_to_its_conversation(
    booked: tuple[Any, list[str]],
) -> None:
    sessions, folios = booked
    recorder = Recorder()
    assert await send_reminders(sessions, recorder, AT_TEN) == 1
    [(channel, sender, text)] = recorder.sent
    assert (channel, sender) == ("whatsapp", "whatsapp:+5215512345678")
    assert folios[0] in text and "mañana" in text and "15 minutos antes" in text
    assert "(ficticia)" in text and "consultorio" in text
    # Never twice: not in the next pass, nor in another process's.
    assert await send_reminders(sessions, recorder, AT_TEN + timedelta(minutes=30)) == 0
    assert len(recorder.sent) == 1


async def test_only_in_sending_hours(booked: tuple[Any, list[str]]) -> None:
    sessions, _ = booked
    recorder = Recorder()
    for hour in (7, 20, 23):
        moment = datetime.combine(TODAY, time(hour, 30), tzinfo=TZ)
        assert await send_reminders(sessions, recorder, moment) == 0
    assert recorder.sent == []
    assert (
        await send_reminders(sessions, recorder, datetime.combine(TODAY, time(9), tzinfo=TZ)) == 1
    )


async def test_a_failed_send_is_tried_again_in_the_next_pass(booked: tuple[Any, list[str]]) -> None:
    sessions, folios = booked
    recorder = Recorder()
    recorder.fail = True
    assert await send_reminders(sessions, recorder, AT_TEN) == 0
    recorder.fail = False
    assert await send_reminders(sessions, recorder, AT_TEN + timedelta(minutes=30)) == 1
    assert folios[0] in recorder.sent[0][2]
