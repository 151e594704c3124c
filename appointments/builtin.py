"""The built-in registry and schedule on the application database (`appointments/models.py`).

Booking is one INSERT: the partial unique indexes refuse a second pending appointment for a slot
or for a person and service, so nothing is checked first and written after (two requests for the
last slot at once: one row, one IntegrityError turned into SlotTaken).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from appointments.models import Affiliate, Appointment, Slot, Status, Umf
from appointments.ports import AlreadyBooked, Booked, Person, SlotTaken, SlotView, UmfView
from core.db import utcnow

FOLIO_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


def new_folio() -> str:
    return "CM-" + "".join(secrets.choice(FOLIO_ALPHABET) for _ in range(8))


def umf_view(umf: Umf) -> UmfView:
    return UmfView(
        umf.code, umf.name, umf.address, umf.state, umf.municipality, tuple(umf.services)
    )


def slot_view(slot: Slot) -> SlotView:
    return SlotView(
        slot.id, slot.umf_id, slot.service, slot.consultorio, slot.shift, slot.starts_at
    )


class DatabaseRegistry:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    async def find(self, nss: str, curp: str) -> Person | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(Affiliate, Umf)
                    .join(Umf, Umf.id == Affiliate.umf_id)
                    .where(Affiliate.nss == nss, Affiliate.curp == curp)
                )
            ).one_or_none()
        if row is None:
            return None
        person, umf = row
        return Person(
            id=person.id,
            nss=person.nss,
            curp=person.curp,
            name=person.name,
            relationship=person.relationship,
            umf_id=umf.id,
            umf=umf_view(umf),
            consultorio=person.consultorio,
            shift=person.shift,
            coverage_until=person.coverage_until,
            services=tuple(person.services),
        )

    async def knows_nss(self, nss: str) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(select(Affiliate.id).where(Affiliate.nss == nss).limit(1))
        return found is not None


class DatabaseSchedule:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    async def slot(self, slot_id: int) -> SlotView | None:
        async with self._sessions() as session:
            slot = await session.get(Slot, slot_id)
        return slot_view(slot) if slot is not None else None

    async def open_slots(
        self, umf_id: int, service: str, shift: str, start: datetime, end: datetime, limit: int
    ) -> list[SlotView]:
        taken = select(Appointment.slot_id).where(Appointment.status == Status.PENDING)
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Slot)
                .where(
                    Slot.umf_id == umf_id,
                    Slot.service == service,
                    Slot.shift == shift,
                    Slot.starts_at >= start,
                    Slot.starts_at < end,
                    Slot.id.not_in(taken),
                )
                .order_by(Slot.starts_at, Slot.consultorio)
                .limit(limit)
            )
            return [slot_view(s) for s in rows]

    async def pending(self, person: Person, now: datetime) -> list[Booked]:
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Appointment, Slot, Umf)
                    .join(Slot, Slot.id == Appointment.slot_id)
                    .join(Umf, Umf.id == Slot.umf_id)
                    .where(
                        Appointment.affiliate_id == person.id,
                        Appointment.status == Status.PENDING,
                        Slot.starts_at >= now,
                    )
                    .order_by(Slot.starts_at)
                )
            ).all()
        return [_booked(a, s, u, person.name) for a, s, u in rows]

    async def book(self, person: Person, slot: SlotView, conversation: str | None) -> Booked:
        async with self._sessions() as session:
            await _close_past(session, person.id)
            appointment = _new(person, slot, conversation)
            session.add(appointment)
            await _commit_booking(session, slot.id)
            umf = await session.get(Umf, slot.umf_id)
            assert umf is not None
            row = await session.get(Slot, slot.id)
            assert row is not None
            return _booked(appointment, row, umf, person.name)

    async def cancel(self, folio: str, nss: str) -> Booked | None:
        async with self._sessions() as session:
            found = await _pending_by_folio(session, folio, nss)
            if found is None:
                return None
            appointment, slot, umf, person = found
            appointment.status = Status.CANCELLED
            appointment.cancelled_at = utcnow()
            await session.commit()
            return _booked(appointment, slot, umf, person.name)

    async def reschedule(self, folio: str, nss: str, person: Person, slot: SlotView) -> Booked:
        async with self._sessions() as session:
            found = await _pending_by_folio(session, folio, nss)
            if found is None or found[3].id != person.id:
                raise LookupError(folio)
            old = found[0]
            old.status = Status.CANCELLED
            old.cancelled_at = utcnow()
            await session.flush()  # the old one no longer holds the person's place
            appointment = _new(person, slot, old.conversation_key)
            appointment.details = {"replaces": old.folio}
            session.add(appointment)
            await _commit_booking(session, slot.id)
            umf = await session.get(Umf, slot.umf_id)
            row = await session.get(Slot, slot.id)
            assert umf is not None and row is not None
            return _booked(appointment, row, umf, person.name)


def _new(person: Person, slot: SlotView, conversation: str | None) -> Appointment:
    return Appointment(
        folio=new_folio(),
        affiliate_id=person.id,
        slot_id=slot.id,
        service=slot.service,
        status=Status.PENDING,
        conversation_key=conversation,
        details={},
    )


async def _commit_booking(session: AsyncSession, slot_id: int) -> None:
    """Commit a new pending appointment; the index it broke, if any, as SlotTaken/AlreadyBooked."""
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        holder = await session.scalar(
            select(Appointment.id).where(
                Appointment.slot_id == slot_id, Appointment.status == Status.PENDING
            )
        )
        raise (SlotTaken() if holder is not None else AlreadyBooked()) from exc


async def _close_past(session: AsyncSession, affiliate_id: int) -> None:
    """A pending appointment whose time went by no longer blocks a new one."""
    past = select(Slot.id).where(Slot.starts_at < utcnow())
    await session.execute(
        update(Appointment)
        .where(
            Appointment.affiliate_id == affiliate_id,
            Appointment.status == Status.PENDING,
            Appointment.slot_id.in_(past),
        )
        .values(status=Status.PAST)
    )


async def _pending_by_folio(
    session: AsyncSession, folio: str, nss: str
) -> tuple[Appointment, Slot, Umf, Affiliate] | None:
    row = (
        await session.execute(
            select(Appointment, Slot, Umf, Affiliate)
            .join(Slot, Slot.id == Appointment.slot_id)
            .join(Umf, Umf.id == Slot.umf_id)
            .join(Affiliate, Affiliate.id == Appointment.affiliate_id)
            .where(
                Appointment.folio == folio.strip().upper(),
                Affiliate.nss == nss,
                Appointment.status == Status.PENDING,
            )
        )
    ).one_or_none()
    return (row[0], row[1], row[2], row[3]) if row is not None else None


def _booked(appointment: Appointment, slot: Slot, umf: Umf, name: str) -> Booked:
    return Booked(
        folio=appointment.folio,
        service=appointment.service,
        status=appointment.status,
        slot=slot_view(slot),
        umf=umf_view(umf),
        person_name=name,
        created_at=appointment.created_at or utcnow(),
    )
