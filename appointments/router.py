"""The appointments API (`/api/appointments`), for the bot's actions and for integrators: open
slots, book, list pending, cancel and reschedule, with the rules of `appointments/booking.py`.
For the staff of Cita Médica signed in (console or bearer token), and for integrators' keys when
one is configured (core/web/api_keys.py), like the REST channel.

The person is named by NSS and CURP in every call; they are personal data: never logged here, and
each use of a key is audited by route, not by path.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from appointments import booking
from appointments.booking import RuleBroken
from appointments.identifiers import InvalidIdentifier, normalize_nss
from appointments.models import SERVICE_NAMES, Service
from appointments.ports import AffiliateRegistry, Booked, Person, Schedule, SlotTaken, SlotView
from core.accounts.access import can_see
from core.accounts.router import presented_token, staff_for_token
from core.accounts.service import record
from core.db import RowId
from core.errors import ApiError, ErrorOut, error_responses
from core.web.api_keys import call_target, require_api_key
from core.web.deps import SessionsDep, SettingsDep

CAMPAIGN = "cita_medica"  # whose staff may book for people from the console


async def caller(
    request: Request,
    settings: SettingsDep,
    sessions: SessionsDep,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> str | None:
    """Who calls: the staff of Cita Médica signed in (bearer token or console cookie; audited
    with their name), else an integrator's key (`require_api_key`: the bot's actions use the
    shared one)."""
    token, from_cookie = presented_token(request, authorization)
    if x_api_key is None and token is not None:
        user = await staff_for_token(request, sessions, token, from_cookie)
        if user is not None:
            if not can_see(user, CAMPAIGN):
                raise ApiError(403, "forbidden", "Las citas son para el personal de Cita Médica.")
            async with sessions() as session:
                record(
                    session, "appointments_api", actor=user.username, target=call_target(request)
                )
                await session.commit()
            return user.username
    return await require_api_key(request, settings, sessions, x_api_key, authorization)


router = APIRouter(
    prefix="/api/appointments",
    tags=["appointments"],
    dependencies=[Depends(caller)],
    responses={
        **error_responses(401, 403, 404, 503),
        422: {
            "model": ErrorOut,
            "description": "A rule says no: `error.code` names it, `error.message` says why",
        },
    },
)

NssQuery = Annotated[str, Query(min_length=1, max_length=32, description="NSS, 11 digits")]
CurpQuery = Annotated[str, Query(min_length=1, max_length=32, description="CURP, 18 characters")]


def registry(request: Request) -> AffiliateRegistry:
    return request.app.state.affiliate_registry


def schedule(request: Request) -> Schedule:
    return request.app.state.schedule


RegistryDep = Annotated[AffiliateRegistry, Depends(registry)]
ScheduleDep = Annotated[Schedule, Depends(schedule)]


class UmfOut(BaseModel):
    code: str
    name: str
    address: str


class SlotOut(BaseModel):
    id: int
    starts_at: datetime
    label: str = Field(description="How to say it: «martes 8 de diciembre, 10:20»")
    consultorio: int


class SlotsOut(BaseModel):
    service: Service
    umf: UmfOut
    shift: str
    slots: list[SlotOut]


class AppointmentOut(BaseModel):
    folio: str
    service: Service
    service_name: str
    status: str
    starts_at: datetime
    label: str
    consultorio: int
    umf: UmfOut
    message: str


class BookIn(BaseModel):
    nss: str = Field(max_length=32)
    curp: str = Field(max_length=32)
    service: str = Field(max_length=32, description="medicina_familiar or estomatologia")
    slot_id: RowId
    conversation: str | None = Field(
        default=None,
        max_length=64,
        description="The conversation's key (Rasa's sender id): the reminder goes back there",
    )


class RescheduleIn(BaseModel):
    nss: str = Field(max_length=32)
    curp: str = Field(max_length=32)
    slot_id: RowId


def _umf(booked_umf: Any) -> UmfOut:
    return UmfOut(code=booked_umf.code, name=booked_umf.name, address=booked_umf.address)


def _slot(slot: SlotView) -> SlotOut:
    return SlotOut(
        id=slot.id,
        starts_at=slot.starts_at,
        label=booking.spoken_date(slot.starts_at),
        consultorio=slot.consultorio,
    )


def _appointment(booked: Booked) -> AppointmentOut:
    label = booking.spoken_date(booked.slot.starts_at)
    service = Service(booked.service)
    return AppointmentOut(
        folio=booked.folio,
        service=service,
        service_name=SERVICE_NAMES[service],
        status=booked.status,
        starts_at=booked.slot.starts_at,
        label=label,
        consultorio=booked.slot.consultorio,
        umf=_umf(booked.umf),
        message=(
            f"Tu cita de {SERVICE_NAMES[service].lower()} es el {label}, en {booked.umf.name} "
            f"({booked.umf.address}), consultorio {booked.slot.consultorio}. Folio "
            f"{booked.folio}. Llega 15 minutos antes con tu identificación."
        ),
    )


def _taken() -> ApiError:
    return ApiError(
        409,
        "slot_taken",
        "Alguien más acaba de tomar ese horario. Pide los horarios de nuevo y elige otro.",
    )


def _refused(exc: RuleBroken) -> ApiError:
    status = 404 if exc.code in ("not_found", "slot_not_found") else 422
    return ApiError(status, exc.code, exc.message)


async def _person(registry: AffiliateRegistry, nss: str, curp: str) -> Person:
    try:
        return await booking.identify(registry, nss, curp, booking.today_local())
    except RuleBroken as exc:
        raise _refused(exc) from exc


@router.get("/slots", response_model=SlotsOut, summary="The nearest open slots for a person")
async def open_slots(
    registry: RegistryDep,
    schedule: ScheduleDep,
    nss: NssQuery,
    curp: CurpQuery,
    service: Annotated[str, Query(max_length=32)],
    day: Annotated[date | None, Query(alias="date", description="From this day on")] = None,
    limit: Annotated[int, Query(ge=1, le=20)] = booking.SLOTS_SHOWN,
) -> SlotsOut:
    person = await _person(registry, nss, curp)
    try:
        slots = await booking.open_slots(
            schedule, person, service, booking.today_local(), day, limit
        )
    except RuleBroken as exc:
        raise _refused(exc) from exc
    return SlotsOut(
        service=Service(service),
        umf=_umf(person.umf),
        shift=person.shift,
        slots=[_slot(s) for s in slots],
    )


@router.post(
    "",
    response_model=AppointmentOut,
    status_code=201,
    summary="Book a slot",
    responses={409: {"description": "Someone took the slot in the meantime"}},
)
async def book(body: BookIn, registry: RegistryDep, schedule: ScheduleDep) -> AppointmentOut:
    person = await _person(registry, body.nss, body.curp)
    try:
        booked = await booking.book(
            schedule,
            person,
            body.service,
            body.slot_id,
            booking.today_local(),
            conversation=body.conversation,
        )
    except RuleBroken as exc:
        raise _refused(exc) from exc
    except SlotTaken:
        raise _taken() from None
    return _appointment(booked)


@router.get("", response_model=list[AppointmentOut], summary="A person's pending appointments")
async def pending(
    registry: RegistryDep, schedule: ScheduleDep, nss: NssQuery, curp: CurpQuery
) -> list[AppointmentOut]:
    person = await _person(registry, nss, curp)
    return [_appointment(b) for b in await schedule.pending(person, datetime.now(booking.TZ))]


@router.delete(
    "/{folio}",
    response_model=AppointmentOut,
    summary="Cancel an appointment by its folio and the person's NSS",
    responses={404: {"description": "No pending appointment with that folio for that NSS"}},
)
async def cancel(folio: str, schedule: ScheduleDep, nss: NssQuery) -> AppointmentOut:
    try:
        number = normalize_nss(nss)
    except InvalidIdentifier as exc:
        raise ApiError(422, "invalid_nss", exc.reason) from exc
    cancelled = await schedule.cancel(folio[:16], number)
    if cancelled is None:
        raise ApiError(
            404, "not_found", "No encontré una cita pendiente con ese folio para ese NSS."
        )
    answer = _appointment(cancelled)
    answer.message = f"Cancelé tu cita del {answer.label} (folio {answer.folio})."
    return answer


@router.put(
    "/{folio}",
    response_model=AppointmentOut,
    summary="Move an appointment to another slot (the old one is freed)",
    responses={409: {"description": "Someone took the new slot in the meantime"}},
)
async def reschedule(
    folio: str, body: RescheduleIn, registry: RegistryDep, schedule: ScheduleDep
) -> AppointmentOut:
    person = await _person(registry, body.nss, body.curp)
    try:
        booked = await booking.reschedule(
            schedule, person, folio[:16], body.slot_id, booking.today_local()
        )
    except RuleBroken as exc:
        raise _refused(exc) from exc
    except SlotTaken:
        raise _taken() from None
    return _appointment(booked)
