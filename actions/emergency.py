"""An emergency only the intent classifier saw: weighed with the safety layer, then answered by
the gateway (its 911 message, the top-priority handoff, the alert), or else treated as the
ordinary message it was ("me muero de risa", "¿qué es el código infarto?")."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge import ActionAnswerQuestion
from core.protocol import EMERGENCY_INTENTS, alert_message
from triage.emergencies import judge, looks_like_question


class ActionEmergency(Action):
    def name(self) -> str:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        intent = tracker.latest_message.get("intent") or {}
        if text.startswith("/"):  # a payload the bot offered (or a test's): no text to weigh
            kind = EMERGENCY_INTENTS.get(intent.get("name") or "")
        else:
            kind = judge(text, intent.get("name"), float(intent.get("confidence") or 0))
        if kind is not None:
            dispatcher.utter_message(json_message=alert_message(kind))
            # Whatever form was under way stops: the person is with a human now.
            return [ActiveLoop(None), SlotSet("requested_slot", None)]
        if looks_like_question(text):
            return await ActionAnswerQuestion().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_not_an_emergency")
        return []
