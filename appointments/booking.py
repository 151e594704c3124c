"""The booking rules (DOMAIN.md, "Appointments"), over whichever registry and schedule are
plugged in. Each broken rule is a `RuleBroken` with a code and a sentence in Spanish that says
what to do next; the API answers it as 422 (a taken slot is 409: `SlotTaken`).

* NSS and CURP pass their check digits, and name the same person;
* coverage (vigencia) is current;
* family medicine or dentistry, one the person's unit offers and they may book;
* only the person's own unit (UMF), in their shift;
* from tomorrow up to 28 days ahead (Mexico City time);
* at most one pending appointment per service per person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appointments.identifiers import InvalidIdentifier, normalize_curp, normalize_nss
from appointments.models import SERVICE_NAMES, Service
from appointments.ports import (
    AffiliateRegistry,
    AlreadyBooked,
    Booked,
    Person,
    Schedule,
    SlotView,
)

TZ = ZoneInfo("America/Mexico_City")
DAYS_AHEAD = 28
SLOTS_SHOWN = 5
MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]
WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]


@dataclass
class RuleBroken(Exception):
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def today_local(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(TZ).date()


def window(today: date) -> tuple[date, date]:
    """The first and last day a booking may fall on."""
    return today + timedelta(days=1), today + timedelta(days=DAYS_AHEAD)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TZ)


def spoken_date(moment: datetime) -> str:
    """«martes 8 de diciembre, 10:20» in Mexico City time."""
    local = moment.astimezone(TZ)
    return f"{WEEKDAYS[local.weekday()]} {local.day} de {MONTHS[local.month - 1]}, {local:%H:%M}"


def spoken_day(day: date) -> str:
    return f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"


async def identify(registry: AffiliateRegistry, nss: str, curp: str, today: date) -> Person:
    """The person these identifiers name, with current coverage; RuleBroken otherwise."""
    try:
        nss, curp = normalize_nss(nss), normalize_curp(curp)
    except InvalidIdentifier as exc:
        raise RuleBroken(f"invalid_{exc.field}", exc.reason) from exc
    person = await registry.find(nss, curp)
    if person is None:
        if await registry.knows_nss(nss):
            raise RuleBroken(
                "identity_mismatch",
                "La CURP no corresponde a ninguna persona registrada con ese NSS. Si agendas para "
                "un beneficiario, usa el NSS de quien lo tiene registrado y la CURP del "
                "beneficiario.",
            )
        raise RuleBroken(
            "not_registered",
            "No encontramos ese NSS en el padrón. Revisa que sea el tuyo o el de quien te tiene "
            "registrado como beneficiario.",
        )
    if person.coverage_until < today:
        raise RuleBroken(
            "coverage_expired",
            f"Tu vigencia de derechos terminó el {spoken_day(person.coverage_until)}, así que no "
            "puedo agendar la cita. Puedes revisarla en la app IMSS Digital o en tu UMF.",
        )
    return person


def check_service(person: Person, service: str) -> Service:
    try:
        chosen = Service(service)
    except ValueError:
        raise RuleBroken(
            "service_not_bookable",
            "Por este medio solo se agendan citas de medicina familiar o de dentista.",
        ) from None
    if chosen not in person.umf.services:
        raise RuleBroken(
            "service_not_at_umf",
            f"Tu unidad ({person.umf.name}) no ofrece {SERVICE_NAMES[chosen].lower()}. Pregunta "
            "en ella a dónde te corresponde acudir.",
        )
    if chosen not in person.services:
        raise RuleBroken(
            "service_not_entitled",
            f"{SERVICE_NAMES[chosen]} no está entre los servicios que puedes agendar. Pregunta "
            "en tu UMF.",
        )
    return chosen


def check_day(day: date, today: date) -> None:
    first, last = window(today)
    if not first <= day <= last:
        raise RuleBroken(
            "date_out_of_range",
            f"Las citas se agendan desde mañana y hasta {DAYS_AHEAD} días después: entre el "
            f"{spoken_day(first)} y el {spoken_day(last)}.",
        )


async def open_slots(
    schedule: Schedule,
    person: Person,
    service: str,
    today: date,
    day: date | None = None,
    limit: int = SLOTS_SHOWN,
) -> list[SlotView]:
    """The nearest open slots for this person from `day` (or tomorrow) to the window's end."""
    chosen = check_service(person, service)
    first, last = window(today)
    if day is not None:
        check_day(day, today)
    start = local_midnight(max(day or first, first))
    end = local_midnight(last + timedelta(days=1))
    return await schedule.open_slots(person.umf_id, chosen, person.shift, start, end, limit)


async def book(
    schedule: Schedule,
    person: Person,
    service: str,
    slot_id: int,
    today: date,
    conversation: str | None = None,
) -> Booked:
    """A new appointment; RuleBroken for any rule, SlotTaken when someone took it meanwhile."""
    chosen = check_service(person, service)
    slot = await _own_slot(schedule, person, chosen, slot_id, today)
    try:
        return await schedule.book(person, slot, conversation)
    except AlreadyBooked:
        raise await _already_booked(schedule, person, chosen) from None


async def reschedule(
    schedule: Schedule, person: Person, folio: str, slot_id: int, today: date
) -> Booked:
    pending = {b.folio: b for b in await schedule.pending(person, datetime.now(UTC))}
    current = pending.get(folio.strip().upper())
    if current is None:
        raise RuleBroken("not_found", "No encontré una cita pendiente con ese folio.")
    slot = await _own_slot(schedule, person, Service(current.service), slot_id, today)
    try:
        return await schedule.reschedule(current.folio, person.nss, person, slot)
    except LookupError:
        raise RuleBroken("not_found", "No encontré una cita pendiente con ese folio.") from None


async def _own_slot(
    schedule: Schedule, person: Person, service: Service, slot_id: int, today: date
) -> SlotView:
    slot = await schedule.slot(slot_id)
    if slot is None:
        raise RuleBroken("slot_not_found", "Ese horario no existe. Pide de nuevo los horarios.")
    if slot.umf_id != person.umf_id:
        raise RuleBroken(
            "other_umf",
            f"Solo puedes agendar en tu unidad, {person.umf.name}. Ese horario es de otra.",
        )
    if slot.service != service:
        raise RuleBroken("other_service", "Ese horario es de otro servicio.")
    if slot.shift != person.shift:
        raise RuleBroken(
            "other_shift",
            f"Tu turno es el {person.shift}; ese horario es del otro turno. Elige uno de tu turno.",
        )
    check_day(slot.starts_at.astimezone(TZ).date(), today)
    return slot


async def _already_booked(schedule: Schedule, person: Person, service: Service) -> RuleBroken:
    pending = [b for b in await schedule.pending(person, datetime.now(UTC)) if b.service == service]
    when = (
        f" el {spoken_date(pending[0].slot.starts_at)} (folio {pending[0].folio})"
        if pending
        else ""
    )
    return RuleBroken(
        "already_booked",
        f"Ya tienes una cita pendiente de {SERVICE_NAMES[service].lower()}{when}. Puedes "
        "cambiarla o cancelarla desde «Mis citas».",
    )
