"""Handing the conversation to a person, and taking it back.

The actions only ask: the gateway's queue (handoff/service.py) decides whether someone can take the
conversation and tells the user. A request travels as a custom message the gateway acts on, in the
shapes of `core.protocol`: `{"ventanilla": {"handoff" | "csat" | "callback": ...}}`.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from core.protocol import (
    DEFAULT_CAMPAIGN,
    EMERGENCIES,
    EMERGENCY_INTENTS,
    BotAction,
    Intent,
    Priority,
    callback_message,
    csat_message,
    handoff_message,
)

SUMMARY_TURNS = 3
CONTEXT_SLOTS_SKIPPED = {
    "privacy_notice_shown",
    "requested_slot",
    "survey_pending",
    "session_started_metadata",
    # The booking's bookkeeping; its answers (appt_service, appt_day, appt_nss, appt_curp, masked
    # by the console unless revealed) stay: the agent sees where the person was.
    "appt_tries",
    "appt_offered",
}


def summary(tracker: Tracker, turns: int = SUMMARY_TURNS) -> str:
    """The user's last few messages (not button clicks), oldest first: the agent's first read."""
    texts = [
        e.get("text") or ""
        for e in tracker.events
        if e.get("event") == "user" and not (e.get("text") or "").startswith("/")
    ]
    return " / ".join(t.strip() for t in texts[-turns:] if t.strip())[:1000]


def handoff_request(tracker: Tracker) -> dict[str, Any]:
    intent = (tracker.latest_message.get("intent") or {}).get("name") or Intent.REQUEST_HUMAN
    kind = EMERGENCY_INTENTS.get(intent)
    if kind is not None:
        campaign, priority = EMERGENCIES[kind].campaign, Priority.URGENT
    else:
        campaign, priority = tracker.get_slot("campaign") or DEFAULT_CAMPAIGN, Priority.NORMAL
    slots = {
        name: value
        for name, value in tracker.current_slot_values().items()
        if value is not None and name not in CONTEXT_SLOTS_SKIPPED
    }
    return {
        "campaign": campaign,
        "priority": str(priority),
        "reason": str(intent),
        "summary": summary(tracker),
        "context": {"intent": intent, "slots": slots},
    }


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        request = handoff_request(tracker)
        dispatcher.utter_message(json_message=handoff_message(request))
        return [SlotSet("handoff_campaign", request["campaign"])]


class ActionHandoffClosed(Action):
    """Run by the gateway when an agent closes: the bot greets back and asks the survey. A form
    that was under way when the person was handed over (an emergency said in the triage, say)
    does not pick up where it was."""

    def name(self) -> str:
        return BotAction.HANDOFF_CLOSED

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_handoff_closed")
        dispatcher.utter_message(response="utter_ask_csat")
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("survey_pending", True)]


def score_from(tracker: Tracker) -> int | None:
    """The 1–5 score of a survey answer: the button's entity, else a lone digit in the text."""
    entity = next(tracker.get_latest_entity_values("csat_score"), None)
    candidates = [str(entity)] if entity is not None else []
    candidates += re.findall(r"\b([1-5])\b", tracker.latest_message.get("text") or "")
    for candidate in candidates:
        if candidate.isdigit() and 1 <= int(candidate) <= 5:
            return int(candidate)
    return None


class ActionRecordCsat(Action):
    def name(self) -> str:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        score = score_from(tracker)
        if not tracker.get_slot("survey_pending") or score is None:
            dispatcher.utter_message(response="utter_csat_not_understood")
            return []
        dispatcher.utter_message(json_message=csat_message(score))
        dispatcher.utter_message(response="utter_csat_thanks")
        return [SlotSet("survey_pending", False)]


def phone_digits(text: str) -> str | None:
    """A Mexican 10-digit number from what the user typed (+52, spaces and dashes allowed)."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 12 and digits.startswith("52"):
        digits = digits[2:]
    elif len(digits) == 13 and digits.startswith("521"):
        digits = digits[3:]
    return digits if len(digits) == 10 else None


class ValidateCallbackForm(FormValidationAction):
    def name(self) -> str:
        return "validate_callback_form"

    def validate_callback_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone = phone_digits(str(value or ""))
        if phone is None:
            dispatcher.utter_message(response="utter_invalid_phone")
        return {"callback_phone": phone}

    def validate_callback_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text or len(text) > 200:
            dispatcher.utter_message(response="utter_invalid_callback_time")
            return {"callback_time": None}
        return {"callback_time": text}


class ActionSubmitCallback(Action):
    def name(self) -> str:
        return "action_submit_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        phone = tracker.get_slot("callback_phone") or ""
        request = {
            "campaign": tracker.get_slot("handoff_campaign") or DEFAULT_CAMPAIGN,
            "phone": phone,
            "preferred_time": tracker.get_slot("callback_time") or "",
        }
        dispatcher.utter_message(json_message=callback_message(request))
        dispatcher.utter_message(
            response="utter_callback_recorded",
            last_digits=phone[-4:],
            time=request["preferred_time"],
        )
        # The number stays with the gateway's callback list, not in the bot's memory.
        return [SlotSet("callback_phone", None), SlotSet("callback_time", None)]
