"""Two-stage fallback: a first miss asks "¿Quisiste decir…?"; a second offers menu or person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from core.protocol import EMERGENCY_INTENTS, Intent, alert_message
from triage.emergencies import judge

FALLBACK_INTENT = Intent.NLU_FALLBACK

# Intents worth offering as "¿Quisiste decir…?" options, with the words a person would click.
SUGGESTION_LABELS: dict[str, str] = {
    "ask_question": "Preguntar sobre un trámite",
    "book_appointment": "Agendar una cita médica",
    "cancel_appointment": "Cancelar una cita",
    "covid_symptoms": "Síntomas de COVID-19",
    "request_human": "Hablar con una persona",
    "show_menu": "Ver el menú",
    "bot_challenge": "Saber si hablo con un asistente virtual",
}

# An emergency is never left behind a clarifying question: if it is the likeliest reading and the
# safety layer does not rule it out, the gateway answers it first (any doubt goes up a level).

MAX_SUGGESTIONS = 3
MIN_SUGGESTION_CONFIDENCE = 0.05


def consecutive_misses(events: list[dict[str, Any]]) -> int:
    """How many of the latest user messages in this session in a row fell back."""
    misses = 0
    for event in reversed(events):
        if event.get("event") == "session_started":
            break
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") != FALLBACK_INTENT:
            break
        misses += 1
    return misses


def suggestions(intent_ranking: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Buttons for the likeliest intents that make sense to offer, best first."""
    buttons = []
    for candidate in intent_ranking:
        name = candidate.get("name")
        if (
            name in SUGGESTION_LABELS
            and candidate.get("confidence", 0) >= MIN_SUGGESTION_CONFIDENCE
        ):
            buttons.append({"title": SUGGESTION_LABELS[name], "payload": f"/{name}"})
        if len(buttons) == MAX_SUGGESTIONS:
            break
    return buttons


def likeliest_emergency(intent_ranking: list[dict[str, Any]]) -> str | None:
    """The emergency intent ranked first among real intents, if any."""
    for candidate in intent_ranking:
        name = candidate.get("name")
        if name == FALLBACK_INTENT:
            continue
        return name if name in EMERGENCY_INTENTS else None
    return None


class ActionFallback(Action):
    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        emergency = likeliest_emergency(ranking)
        if emergency:
            # The same weighing as action_emergency's, with the classifier's own confidence (a
            # low one counts only where the safety layer itself reads an emergency).
            confidence = next(c.get("confidence", 0) for c in ranking if c.get("name") == emergency)
            kind = judge(tracker.latest_message.get("text") or "", emergency, confidence)
            if kind is not None:
                dispatcher.utter_message(json_message=alert_message(kind))
                return []

        if consecutive_misses(tracker.events) >= 2:
            dispatcher.utter_message(
                text=(
                    "Sigo sin entenderte, perdona. "
                    "Puedo mostrarte el menú o comunicarte con una persona."
                ),
                buttons=[
                    {"title": "Ver el menú", "payload": "/show_menu"},
                    {"title": "Hablar con una persona", "payload": "/request_human"},
                ],
            )
            return []

        options = suggestions(ranking)
        if options:
            dispatcher.utter_message(
                text="No estoy seguro de haberte entendido. ¿Quisiste decir…?",
                buttons=[*options, {"title": "Ninguna de estas", "payload": f"/{FALLBACK_INTENT}"}],
            )
        else:
            dispatcher.utter_message(
                text="No estoy seguro de haberte entendido. ¿Puedes decirlo con otras palabras?"
            )
        return []
