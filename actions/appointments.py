"""Booking, listing and cancelling appointments in a conversation, over the gateway's
`/api/appointments` (the rules and their Spanish reasons are the API's: appointments/booking.py).

The booking form (`appointment_form`) asks who the patient is, NSS, CURP, service and day; the
CURP's answer is checked against the registry at once (the pair, the coverage), so a wrong one is
asked again where it was said. Three wrong NSS or CURP answers end the form with the offer of a
person. Then the nearest slots come as buttons (`/choose_slot{"appt_slot": "<id>"}`); a typed
«el de las 10:20» works too (on SMS and WhatsApp, the option's number: connectors' `choose`).
A slot taken meanwhile gets the next ones offered.

Buttons inside the form send `/book_appointment{"appt_choice": "<value>"}`: the form reads the
value as the answer. NSS and CURP stay in slots (the conversation's tracker, on loopback); the
gateway masks them in what staff read.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any

import httpx
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from appointments.booking import TZ, RuleBroken, check_day, today_local
from appointments.dates import parse_day
from appointments.identifiers import InvalidIdentifier, normalize_curp, normalize_nss
from core.privacy import MaskingFilter
from core.settings import get_settings

log = logging.getLogger(__name__)
# httpx logs each request's URL, and the appointments API takes NSS and CURP in the query.
logging.getLogger("httpx").addFilter(MaskingFilter())

MAX_TRIES = 3
SKIPPED = "-"  # fills the form's remaining slots when it ends early (three wrong answers)
FORM_SLOTS = ("appt_patient", "appt_nss", "appt_curp", "appt_service", "appt_day")
BOOKING_SLOTS = ("appt_service", "appt_day", "appt_slot", "appt_offered", "appt_folio")
SERVICES = {"medicina_familiar": "medicina familiar", "estomatologia": "dentista"}


class ServiceDown(Exception):
    """The appointments API did not answer."""


async def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
    settings = get_settings()
    headers = {"X-API-Key": settings.api_key.get_secret_value()} if settings.api_key else {}
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{settings.port}", timeout=20, headers=headers
        ) as client:
            return await client.request(method, f"/api/appointments{path}", **kwargs)
    except httpx.HTTPError as exc:
        raise ServiceDown(str(exc)) from exc


def choice_button(title: str, value: str) -> dict[str, str]:
    return {"title": title, "payload": "/book_appointment" + json.dumps({"appt_choice": value})}


def said(value: Any, tracker: Tracker) -> str:
    """The answer: a pressed button's value, else what was written (or kept from before)."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "appt_choice":
            return str(entity.get("value"))
    return str(value or "")


def reason(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return "error", "No pude completar eso ahora. Intenta de nuevo en unos minutos."


def read_patient(text: str) -> str | None:
    low = text.lower()
    if re.search(r"benefici|hij|espos|mam|pap|madre|padre|otra persona|alguien", low):
        return "beneficiario"
    if re.search(r"\b(mí|mi|yo|titular|para mi)\b", low):
        return "titular"
    return None


def read_service(text: str) -> str | None:
    low = text.lower()
    if re.search(r"estomatolog|dent|muela|diente", low):
        return "estomatologia"
    if re.search(r"familiar|m[eé]dic|doctor|general|consulta", low):
        return "medicina_familiar"
    return None


def _give_up(dispatcher: CollectingDispatcher) -> dict[str, Any]:
    dispatcher.utter_message(response="utter_appt_give_up")
    return dict.fromkeys(FORM_SLOTS, SKIPPED)


class _Identity:
    """NSS and CURP, shared by the booking form and «Mis citas»."""

    def validate_appt_nss(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # emptied on purpose (a new booking): nothing to check
            return {"appt_nss": None}
        try:
            return {"appt_nss": normalize_nss(said(value, tracker))}
        except InvalidIdentifier as exc:
            return self._wrong(exc.reason, "appt_nss", dispatcher, tracker)

    async def validate_appt_curp(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # emptied on purpose (a new booking): nothing to check
            return {"appt_curp": None}
        try:
            curp = normalize_curp(said(value, tracker))
        except InvalidIdentifier as exc:
            return self._wrong(exc.reason, "appt_curp", dispatcher, tracker)
        nss = tracker.get_slot("appt_nss")
        try:
            answer = await call("GET", "", params={"nss": nss, "curp": curp})
        except ServiceDown:
            dispatcher.utter_message(response="utter_appt_service_down")
            return {"appt_curp": None}
        if answer.status_code == 200:
            return {"appt_curp": curp, "appt_tries": 0}
        code, message = reason(answer)
        if code == "coverage_expired":
            dispatcher.utter_message(text=message)
            return _give_up(dispatcher)
        # The pair names no one: both are asked again.
        result = self._wrong(message, "appt_curp", dispatcher, tracker)
        return {**result, "appt_nss": None} if result.get("appt_curp") is None else result

    @staticmethod
    def _wrong(
        why: str, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        tries = int(tracker.get_slot("appt_tries") or 0) + 1
        dispatcher.utter_message(text=why)
        if tries >= MAX_TRIES:
            return {**_give_up(dispatcher), "appt_tries": 0}
        return {slot: None, "appt_tries": tries}


class ValidateAppointmentForm(_Identity, FormValidationAction):
    def name(self) -> str:
        return "validate_appointment_form"

    def validate_appt_patient(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # emptied on purpose (a new booking): nothing to check
            return {"appt_patient": None}
        patient = read_patient(said(value, tracker))
        if patient is None:
            dispatcher.utter_message(response="utter_appt_not_understood")
        return {"appt_patient": patient}

    def validate_appt_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # emptied on purpose (a new booking): nothing to check
            return {"appt_service": None}
        service = read_service(said(value, tracker))
        if service is None:
            dispatcher.utter_message(response="utter_appt_not_understood")
        return {"appt_service": service}

    def validate_appt_day(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # emptied on purpose (a new booking): nothing to check
            return {"appt_day": None}
        today = today_local()
        preferred = parse_day(said(value, tracker), today)
        if not preferred.understood:
            dispatcher.utter_message(response="utter_appt_day_not_understood")
            return {"appt_day": None}
        if preferred.day is not None:
            try:
                check_day(preferred.day, today)
            except RuleBroken as exc:
                dispatcher.utter_message(text=exc.message)
                return {"appt_day": None}
        day = preferred.day.isoformat() if preferred.day else "pronto"
        return {"appt_day": f"{day}|{preferred.shift or ''}"}


class ValidateIdentityForm(_Identity, FormValidationAction):
    def name(self) -> str:
        return "validate_identity_form"


class ActionAppointmentStart(Action):
    """Says what comes and forgets an earlier booking's answers (who, NSS and CURP are asked
    again: it may be for someone else this time)."""

    def name(self) -> str:
        return "action_appointment_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_appointment_intro")
        forget = dict.fromkeys((*FORM_SLOTS, "appt_tries", *BOOKING_SLOTS))
        return [SlotSet(slot, None) for slot in forget]


class _AskWithChoices(Action):
    """A form question whose answers may also be buttons (`appt_choice` values)."""

    slot = ""
    choices: tuple[tuple[str, str], ...] = ()  # (title, value)

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def response(self, tracker: Tracker) -> str:
        return f"utter_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = [choice_button(title, value) for title, value in self.choices]
        dispatcher.utter_message(response=self.response(tracker), buttons=buttons)
        return []


class ActionAskApptPatient(_AskWithChoices):
    slot = "appt_patient"
    choices = (("Para mí", "para mí"), ("Para un beneficiario", "beneficiario"))


class ActionAskApptNss(_AskWithChoices):
    slot = "appt_nss"

    def response(self, tracker: Tracker) -> str:
        beneficiary = tracker.get_slot("appt_patient") == "beneficiario"
        return "utter_ask_appt_nss_beneficiary" if beneficiary else "utter_ask_appt_nss"


class ActionAskApptService(_AskWithChoices):
    slot = "appt_service"
    choices = (("Medicina familiar", "medicina familiar"), ("Dentista", "dentista"))


class ActionAskApptDay(_AskWithChoices):
    slot = "appt_day"
    choices = (("Lo antes posible", "lo antes posible"),)


def _identity(tracker: Tracker) -> dict[str, str]:
    return {"nss": tracker.get_slot("appt_nss") or "", "curp": tracker.get_slot("appt_curp") or ""}


async def offer(
    dispatcher: CollectingDispatcher, tracker: Tracker, intro: str = ""
) -> list[EventType]:
    """The nearest open slots as buttons (from the day asked for), or why there are none."""
    day, _, shift = str(tracker.get_slot("appt_day") or "pronto|").partition("|")
    params = {**_identity(tracker), "service": tracker.get_slot("appt_service")}
    if day != "pronto":
        params["date"] = day
    try:
        answer = await call("GET", "/slots", params=params)
    except ServiceDown:
        dispatcher.utter_message(response="utter_appt_service_down")
        return []
    if answer.status_code != 200:
        dispatcher.utter_message(text=reason(answer)[1])
        return [SlotSet("appt_day", None)]
    found = answer.json()
    slots = found["slots"]
    other = {"title": "Otro día", "payload": "/other_day"}
    if not slots:
        dispatcher.utter_message(
            text=f"{intro}No hay horarios libres en {found['umf']['name']} desde ese día. "
            "¿Probamos otro día?",
            buttons=[other, {"title": "Hablar con una persona", "payload": "/request_human"}],
        )
        return [SlotSet("appt_offered", [])]
    turn = ""
    if shift and shift != found["shift"]:
        turn = f" Tu turno es el {found['shift']}, así que te muestro horarios de ese turno."
    buttons = [
        {"title": s["label"], "payload": "/choose_slot" + json.dumps({"appt_slot": str(s["id"])})}
        for s in slots
    ]
    dispatcher.utter_message(
        text=f"{intro}Estos son los horarios más cercanos en {found['umf']['name']}, "
        f"{found['umf']['address']}.{turn} Elige uno:",
        buttons=[*buttons, other],
    )
    offered = [{"id": s["id"], "label": s["label"], "starts_at": s["starts_at"]} for s in slots]
    return [SlotSet("appt_offered", offered), SlotSet("appt_slot", None)]


class ActionOfferSlots(Action):
    def name(self) -> str:
        return "action_offer_slots"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("appt_nss") == SKIPPED:  # ended early: the person was offered
            return [SlotSet(s, None) for s in dict.fromkeys((*FORM_SLOTS, *BOOKING_SLOTS))]
        return await offer(dispatcher, tracker)


def pick(text: str, offered: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Which offered slot «el primero», «2» or «el de las 10:20» names."""
    low = text.lower()
    ordinals = ["primer", "segund", "tercer", "cuart", "quint"]
    for n, word in enumerate(ordinals):
        if word in low and n < len(offered):
            return offered[n]
    if "últim" in low and offered:
        return offered[-1]
    number = re.fullmatch(r"\s*(\d)\s*", low)
    if number and 1 <= int(number[1]) <= len(offered):
        return offered[int(number[1]) - 1]
    hour = re.search(r"(\d{1,2})(?::(\d{2}))?", low)
    if hour:
        wanted = int(hour[1]) + (12 if "tarde" in low and int(hour[1]) < 12 else 0)
        for slot in offered:
            local = datetime.fromisoformat(slot["starts_at"]).astimezone(TZ)
            if local.hour == wanted and (hour[2] is None or int(hour[2]) == local.minute):
                return slot
    return None


class ActionConfirmSlot(Action):
    def name(self) -> str:
        return "action_confirm_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offered = list(tracker.get_slot("appt_offered") or [])
        chosen_id = tracker.get_slot("appt_slot")
        chosen = next((s for s in offered if str(s["id"]) == str(chosen_id)), None)
        if chosen is None:
            chosen = pick(str(tracker.latest_message.get("text") or ""), offered)
        if chosen is None:
            if not offered:
                dispatcher.utter_message(text="Primero dime para qué servicio y qué día.")
                return []
            return await offer(dispatcher, tracker, "No supe cuál horario elegiste. ")
        service = SERVICES.get(str(tracker.get_slot("appt_service")), "")
        question = (
            f"¿Cambio tu cita de {service} al {chosen['label']}?"
            if tracker.get_slot("appt_folio")
            else f"¿Confirmo tu cita de {service} el {chosen['label']}?"
        )
        dispatcher.utter_message(
            text=question,
            buttons=[
                {"title": "Sí, confírmala", "payload": "/affirm"},
                {"title": "Otro horario", "payload": "/other_day"},
            ],
        )
        return [SlotSet("appt_slot", str(chosen["id"]))]


class ActionBookAppointment(Action):
    def name(self) -> str:
        return "action_book_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slot_id = int(tracker.get_slot("appt_slot") or 0)
        folio = tracker.get_slot("appt_folio")
        try:
            if folio:  # «Cambiar esta cita»: the new time replaces it
                answer = await call(
                    "PUT", f"/{folio}", json={**_identity(tracker), "slot_id": slot_id}
                )
            else:
                body = {
                    **_identity(tracker),
                    "service": tracker.get_slot("appt_service"),
                    "slot_id": slot_id,
                    "conversation": tracker.sender_id,
                }
                answer = await call("POST", "", json=body)
        except ServiceDown:
            dispatcher.utter_message(response="utter_appt_service_down")
            return []
        if answer.status_code in (200, 201):
            dispatcher.utter_message(
                text=answer.json()["message"],
                buttons=[{"title": "Mis citas", "payload": "/my_appointments"}],
            )
            return [SlotSet(slot, None) for slot in BOOKING_SLOTS]
        code, message = reason(answer)
        if code == "slot_taken":
            return await offer(dispatcher, tracker, "Alguien más acaba de tomar ese horario. ")
        buttons = [{"title": "Mis citas", "payload": "/my_appointments"}]
        dispatcher.utter_message(text=message, buttons=buttons)
        return [SlotSet(slot, None) for slot in BOOKING_SLOTS]


class ActionOtherDay(Action):
    """«Otro día», «ninguno me queda»: the day is asked again (who, NSS, CURP and service stay).
    From «Mis citas», «Cambiar esta cita» names its folio: the new time replaces that one."""

    def name(self) -> str:
        return "action_other_day"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("appt_day", None), SlotSet("appt_slot", None)]
        folio = tracker.get_slot("appt_folio")
        if not folio or tracker.get_slot("appt_nss") in (None, SKIPPED):
            return events
        try:
            listed = await call("GET", "", params=_identity(tracker))
        except ServiceDown:
            dispatcher.utter_message(response="utter_appt_service_down")
            return [*events, SlotSet("appt_folio", None)]
        current = next(
            (a for a in listed.json() if a["folio"] == folio), None
        ) if listed.status_code == 200 else None  # fmt: skip
        if current is None:
            dispatcher.utter_message(text="Ya no encuentro esa cita pendiente.")
            return [*events, SlotSet("appt_folio", None)]
        dispatcher.utter_message(text=f"Vamos a cambiar tu cita del {current['label']}.")
        return [
            *events,
            SlotSet("appt_service", current["service"]),
            SlotSet("appt_patient", tracker.get_slot("appt_patient") or "titular"),
        ]


class ActionMyAppointments(Action):
    """The pending appointments, each with «Cancelar»; with a folio pressed, that one cancelled."""

    def name(self) -> str:
        return "action_my_appointments"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("appt_nss") in (None, SKIPPED):
            return [SlotSet("appt_nss", None), SlotSet("appt_curp", None)]
        identity = _identity(tracker)
        folio = tracker.get_slot("appt_folio")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        try:
            if folio and intent == "cancel_appointment":
                answer = await call("DELETE", f"/{folio}", params={"nss": identity["nss"]})
                dispatcher.utter_message(
                    text=answer.json()["message"]
                    if answer.status_code == 200
                    else reason(answer)[1]
                )
            listed = await call("GET", "", params=identity)
        except ServiceDown:
            dispatcher.utter_message(response="utter_appt_service_down")
            return [SlotSet("appt_folio", None)]
        pending = listed.json() if listed.status_code == 200 else []
        if not pending:
            dispatcher.utter_message(
                text="No tienes citas pendientes.",
                buttons=[{"title": "Agendar una cita", "payload": "/book_appointment"}],
            )
        for appointment in pending:
            dispatcher.utter_message(
                text=f"{appointment['service_name']}: {appointment['label']}, "
                f"{appointment['umf']['name']}, consultorio {appointment['consultorio']}. "
                f"Folio {appointment['folio']}.",
                buttons=[
                    {
                        "title": "Cambiar esta cita",
                        "payload": "/other_day" + json.dumps({"appt_folio": appointment["folio"]}),
                    },
                    {
                        "title": "Cancelar esta cita",
                        "payload": "/cancel_appointment"
                        + json.dumps({"appt_folio": appointment["folio"]}),
                    },
                ],
            )
        return [SlotSet("appt_folio", None)]
