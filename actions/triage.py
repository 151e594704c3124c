"""COVID-19 triage: the form's questions and checks, and the result.

The reading of free text is `triage.parsing`, the rules are `triage.engine` with the protocol file,
storing is `triage.records`: these actions only move answers between the tracker and them.

Buttons send `/covid_symptoms{"triage_code": "<code>"}`: inside the form the text is read like any
answer; a stale button clicked after the form starts the triage again, which is what it offers.
Symptoms and risk factors can be picked one button at a time ("¿Algo más?" until "Es todo"), the
picks kept in `triage_picked`, or written together in one message.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from core.protocol import EmergencyKind, Priority, alert_message, handoff_message
from triage import engine, parsing, records
from triage.answers import InvalidAnswers, check, complete, summary

log = logging.getLogger(__name__)

FORM = "triage_form"
CAMPAIGN = "omt_covid"
PICKED = "triage_picked"
# Slot → the protocol's answer field, in the order the form asks them (as in bot/domain.yml).
FIELDS = {
    "triage_emergency_signs": "emergency_signs",
    "triage_age": "age",
    "triage_symptoms": "symptoms",
    "triage_symptom_days": "symptom_days",
    "triage_risk_factors": "risk_factors",
    "triage_exposure": "exposure",
}
CONFIRMED = "triage_confirmed"
SLOTS = (*FIELDS, CONFIRMED, PICKED)


def button(title: str, code: str) -> dict[str, str]:
    return {"title": title, "payload": "/covid_symptoms" + json.dumps({"triage_code": code})}


def options(field: str) -> list[str]:
    return list(engine.load().codes[field])


def partial_answers(tracker: Tracker) -> dict[str, Any]:
    return {field: tracker.get_slot(slot) for slot, field in FIELDS.items()}


def reset() -> list[EventType]:
    return [SlotSet(slot, None) for slot in SLOTS]


def emergency_kind(signs: list[str]) -> EmergencyKind:
    """The emergency the gateway answers for these signs: chest pain is a possible heart attack,
    confusion or drowsiness a loss of consciousness, the rest a breathing emergency."""
    if "chest_pain" in signs:
        return EmergencyKind.INFARTO
    if {"new_confusion", "hard_to_wake"} & set(signs):
        return EmergencyKind.INCONSCIENTE
    return EmergencyKind.RESPIRACION


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


class ValidateTriageForm(FormValidationAction):
    def name(self) -> str:
        return "validate_triage_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # Rasa offers the message that started the form ("tengo síntomas de covid", the menu's
        # button) to every question's text mapping: it answers none of them.
        if tracker.get_slot("requested_slot") is None:
            return []
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # An emergency sign ends the questions: the result is rojo whatever else is answered.
        if tracker.get_slot("triage_emergency_signs"):
            return ["triage_emergency_signs"]
        return domain_slots

    @staticmethod
    def _emergency(text: str) -> dict[str, Any]:
        """An emergency sign said in any later answer ("tengo 70 y me falta mucho el aire")."""
        signs = parsing.emergency_signs(text)
        return {"triage_emergency_signs": signs} if signs else {}

    def validate_triage_emergency_signs(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = _text(value)
        codes = parsing.list_answer("emergency_signs", text, options("emergency_signs"))
        if codes is None:
            reading = parsing.saturation(text)  # a reading of 90 or more: not a sign by itself
            if reading is not None:
                dispatcher.utter_message(response="utter_triage_saturation_ok", reading=reading)
            else:
                dispatcher.utter_message(response="utter_triage_not_understood")
            return {"triage_emergency_signs": None}
        return {
            "triage_emergency_signs": [c for c in codes if c not in (parsing.NONE, parsing.DONE)]
        }

    def validate_triage_age(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = _text(value)
        age = parsing.age(text)
        if age is None and not self._emergency(text):
            dispatcher.utter_message(response="utter_triage_invalid_age")
        return {"triage_age": age, **self._emergency(text)}

    def _several(
        self, field: str, text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        slot = f"triage_{field}"
        picked = list(tracker.get_slot(PICKED) or [])
        codes = parsing.list_answer(field, text, options(field))
        emergency = self._emergency(text)
        if emergency:
            named = [c for c in codes or [] if c not in (parsing.NONE, parsing.DONE)]
            return {slot: list(dict.fromkeys([*picked, *named])), PICKED: None, **emergency}
        if codes is None and picked and parsing.says_done(text):
            codes = [parsing.DONE]
        if codes is None:
            dispatcher.utter_message(response="utter_triage_not_understood")
            return {slot: None}
        chosen = [c for c in codes if c not in (parsing.NONE, parsing.DONE)]
        every = list(dict.fromkeys([*picked, *chosen]))
        one_click = parsing.button_codes(text) is not None and chosen
        if one_click and len(every) < len(options(field)):
            return {slot: None, PICKED: every}  # asked again: "¿Algo más?"
        return {slot: every, PICKED: None}

    def validate_triage_symptoms(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        result = self._several("symptoms", _text(value), dispatcher, tracker)
        if result.get("triage_symptoms") == []:
            result["triage_symptom_days"] = 0  # no symptoms: no days to ask about
        return result

    def validate_triage_symptom_days(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = _text(value)
        days = parsing.symptom_days(text)
        if days is None and not self._emergency(text):
            dispatcher.utter_message(response="utter_triage_invalid_days")
        return {"triage_symptom_days": days, **self._emergency(text)}

    def validate_triage_risk_factors(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._several("risk_factors", _text(value), dispatcher, tracker)

    def validate_triage_exposure(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = _text(value)
        exposure = parsing.exposure(text)
        if exposure is None and not self._emergency(text):
            dispatcher.utter_message(response="utter_triage_not_understood")
        return {"triage_exposure": exposure, **self._emergency(text)}

    def validate_triage_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = _text(value)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = {"affirm": True, "deny": False}.get(intent or "", parsing.confirmation(text))
        if self._emergency(text):
            return {CONFIRMED: True, **self._emergency(text)}
        if answer is None:
            dispatcher.utter_message(response="utter_triage_not_understood")
            return {CONFIRMED: None}
        if not answer:  # "Corregir": the questions again, from the first
            dispatcher.utter_message(response="utter_triage_restart")
            return {slot: None for slot in SLOTS}
        return {CONFIRMED: True}


class ActionTriageStart(Action):
    """Forgets a previous triage's answers and says what comes, before the form's first question."""

    def name(self) -> str:
        return "action_triage_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_triage_intro")
        return reset()


class ActionAskTriageEmergencySigns(Action):
    def name(self) -> str:
        return "action_ask_triage_emergency_signs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        meanings = engine.load().codes["emergency_signs"]
        dispatcher.utter_message(
            response="utter_ask_triage_emergency_signs",
            buttons=[
                *(button(label, code) for code, label in meanings.items()),
                button("Ninguno de estos", parsing.NONE),
            ],
        )
        return []


class _AskSeveral(Action):
    """The question of a list field, with a button per option; after a pick, the options left."""

    field = ""

    def name(self) -> str:
        return f"action_ask_triage_{self.field}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        meanings = engine.load().codes[self.field]
        picked = list(tracker.get_slot(PICKED) or [])
        left = [button(label, code) for code, label in meanings.items() if code not in picked]
        if picked:
            dispatcher.utter_message(
                response=f"utter_ask_triage_more_{self.field}",
                picked=", ".join(meanings.get(c, c) for c in picked),
                buttons=[*left, button("Es todo", parsing.DONE)],
            )
        else:
            dispatcher.utter_message(
                response=f"utter_ask_triage_{self.field}",
                buttons=[*left, button("Ninguno", parsing.NONE)],
            )
        return []


class ActionAskTriageSymptoms(_AskSeveral):
    field = "symptoms"


class ActionAskTriageRiskFactors(_AskSeveral):
    field = "risk_factors"


class ActionAskTriageConfirmed(Action):
    def name(self) -> str:
        return "action_ask_triage_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_ask_triage_confirmed",
            summary=summary(engine.load(), partial_answers(tracker)),
        )
        return []


class ActionTriageResult(Action):
    """Assess the answers, store the assessment, and say what to do (rojo: the gateway's
    emergency answer; amarillo: a doctor of `omt_covid` through a handoff; verde: advice)."""

    def name(self) -> str:
        return "action_triage_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        protocol = engine.load()
        try:
            answers = check(protocol, complete(partial_answers(tracker)))
        except InvalidAnswers:  # a bug of ours: the person still gets a doctor
            log.exception("triage answers refused")
            dispatcher.utter_message(response="utter_triage_failed")
            dispatcher.utter_message(
                json_message=handoff_message(
                    {"campaign": CAMPAIGN, "priority": str(Priority.HIGH), "reason": "triage_error"}
                )
            )
            return reset()
        outcome = engine.assess(protocol, answers)
        channel = (tracker.latest_message.get("metadata") or {}).get("channel")
        try:
            await records.record(answers, outcome, tracker.sender_id, channel)
        except Exception:  # the advice matters more than the record
            log.exception("could not store the triage assessment")

        events = reset()
        if outcome.level == engine.Level.ROJO:
            # The gateway answers it as any emergency: 911, the urgent handoff, the alert.
            dispatcher.utter_message(
                json_message=alert_message(emergency_kind(answers["emergency_signs"]))
            )
            return events
        dispatcher.utter_message(text=protocol.dispositions[outcome.disposition])
        dispatcher.utter_message(response=f"utter_triage_{outcome.disposition}")
        if outcome.level == engine.Level.AMARILLO:
            request = {
                "campaign": CAMPAIGN,
                "priority": str(Priority.HIGH),
                "reason": "triage_amarillo",
                "summary": summary(protocol, answers),
                "context": {"assessment": {**outcome.as_dict(), "answers": answers}},
            }
            dispatcher.utter_message(json_message=handoff_message(request))
            events.append(SlotSet("handoff_campaign", CAMPAIGN))
        return events
