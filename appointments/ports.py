"""The two systems booking talks to, as interfaces: where the institute's real ones plug in.

`AffiliateRegistry` answers who a person is (by NSS and CURP: name, coverage, assigned unit,
consultorio, shift, the services they may book). `Schedule` holds the units' open times and the
appointments. The built-in implementations (`appointments/builtin.py`) keep both on the
application database, filled by `ventanilla seed-demo`. To use the institute's systems, write a
class with the same methods that calls them and return it from `appointments/builtin.py`'s
`registry()` / `schedule()` factories (or set them on `app.state` at start-up): the rules
(`appointments/booking.py`), the API and the bot's actions do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True)
class UmfView:
    code: str
    name: str
    address: str
    state: str
    municipality: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class Person:
    id: int
    nss: str
    curp: str
    name: str
    relationship: str
    umf_id: int
    umf: UmfView
    consultorio: int
    shift: str
    coverage_until: date
    services: tuple[str, ...]


@dataclass(frozen=True)
class SlotView:
    id: int
    umf_id: int
    service: str
    consultorio: int
    shift: str
    starts_at: datetime


@dataclass(frozen=True)
class Booked:
    folio: str
    service: str
    status: str
    slot: SlotView
    umf: UmfView
    person_name: str
    created_at: datetime


class SlotTaken(Exception):
    """Someone else booked the slot in the meantime."""


class AlreadyBooked(Exception):
    """The person has a pending appointment for that service."""


class AffiliateRegistry(Protocol):
    async def find(self, nss: str, curp: str) -> Person | None:
        """The person the NSS and CURP pair names, None when no one."""
        ...

    async def knows_nss(self, nss: str) -> bool:
        """Whether anyone is registered with this NSS (to tell a wrong CURP from a wrong NSS)."""
        ...


class Schedule(Protocol):
    async def slot(self, slot_id: int) -> SlotView | None: ...

    async def open_slots(
        self, umf_id: int, service: str, shift: str, start: datetime, end: datetime, limit: int
    ) -> list[SlotView]:
        """The earliest free slots from `start` (inclusive) to `end` (exclusive)."""
        ...

    async def pending(self, person: Person, now: datetime) -> list[Booked]: ...

    async def book(self, person: Person, slot: SlotView, conversation: str | None) -> Booked:
        """SlotTaken or AlreadyBooked when the database refuses it."""
        ...

    async def cancel(self, folio: str, nss: str) -> Booked | None:
        """None when no pending appointment has that folio for that NSS."""
        ...

    async def reschedule(self, folio: str, nss: str, person: Person, slot: SlotView) -> Booked:
        """The old one cancelled and the new one booked, together or not at all."""
        ...
