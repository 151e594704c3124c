"""The day-before reminder: each pending appointment of tomorrow (Mexico City) booked in a
conversation gets one message back through that conversation's channel, by the proactive path
(`Gateway.notify`: the outbox, the 24-hour window's template on WhatsApp).

`send_reminders` is one pass, with the clock given (tests move it); the app runs it every
`VENTANILLA_REMINDER_EVERY_MINUTES` with APScheduler, between 9:00 and 20:00 only. Each
appointment is claimed with a conditional UPDATE before its message goes, so two gateway
processes never remind twice; a failed send gives the claim back for the next pass.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from appointments.booking import TZ, local_midnight, spoken_date
from appointments.models import SERVICE_NAMES, Appointment, Service, Slot, Status, Umf
from core.conversations import Conversation

log = logging.getLogger(__name__)

Notify = Callable[[str, str, str], Awaitable[object]]  # (channel, sender, text)
SENDING_HOURS = (time(9, 0), time(20, 0))


def reminder_text(starts_at: datetime, service: str, umf: Umf, consultorio: int, folio: str) -> str:
    return (
        f"Recordatorio: mañana, {spoken_date(starts_at)}, tienes cita de "
        f"{SERVICE_NAMES[Service(service)].lower()} en {umf.name} ({umf.address}), consultorio "
        f"{consultorio}. Folio {folio}. Llega 15 minutos antes con tu identificación. Si no "
        "puedes ir, cancélala desde «Mis citas» para que otra persona use el horario."
    )


async def send_reminders(
    sessions: async_sessionmaker[AsyncSession], notify: Notify, now: datetime
) -> int:
    """Remind tomorrow's appointments not yet reminded; how many messages went out."""
    local = now.astimezone(TZ)
    if not SENDING_HOURS[0] <= local.time() < SENDING_HOURS[1]:
        return 0
    tomorrow = local.date() + timedelta(days=1)
    start, end = local_midnight(tomorrow), local_midnight(tomorrow + timedelta(days=1))
    async with sessions() as session:
        due = (
            await session.execute(
                select(Appointment, Slot, Umf, Conversation)
                .join(Slot, Slot.id == Appointment.slot_id)
                .join(Umf, Umf.id == Slot.umf_id)
                .join(Conversation, Conversation.key == Appointment.conversation_key)
                .where(
                    Appointment.status == Status.PENDING,
                    Appointment.reminded_at.is_(None),
                    Slot.starts_at >= start,
                    Slot.starts_at < end,
                )
                .order_by(Slot.starts_at)
            )
        ).all()
    sent = 0
    for appointment, slot, umf, conversation in due:
        if not await _claim(sessions, appointment.id, now):
            continue  # another process has it
        text = reminder_text(slot.starts_at, appointment.service, umf, slot.consultorio,
                             appointment.folio)  # fmt: skip
        try:
            await notify(conversation.channel, conversation.sender, text)
        except Exception:
            log.exception("the reminder of appointment %s was not queued", appointment.id)
            await _release(sessions, appointment.id)
            continue
        sent += 1
    return sent


async def _claim(
    sessions: async_sessionmaker[AsyncSession], appointment_id: int, now: datetime
) -> bool:
    async with sessions() as session:
        claimed = await session.execute(
            update(Appointment)
            .where(Appointment.id == appointment_id, Appointment.reminded_at.is_(None))
            .values(reminded_at=now)
        )
        await session.commit()
        return claimed.rowcount == 1  # type: ignore[attr-defined]


async def _release(sessions: async_sessionmaker[AsyncSession], appointment_id: int) -> None:
    async with sessions() as session:
        await session.execute(
            update(Appointment).where(Appointment.id == appointment_id).values(reminded_at=None)
        )
        await session.commit()
