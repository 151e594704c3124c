"""Session start: the first contact gets a short welcome and the privacy notice."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from core.settings import get_settings


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        # A custom session start must carry the slots over itself (session_config asks for it).
        events.extend(
            SlotSet(name, value) for name, value in tracker.slots.items() if value is not None
        )
        if not tracker.get_slot("privacy_notice_shown"):
            dispatcher.utter_message(response="utter_welcome")
            dispatcher.utter_message(
                response="utter_privacy_notice", privacy_url=get_settings().privacy_notice_url
            )
            events.append(SlotSet("privacy_notice_shown", True))
        events.append(ActionExecuted("action_listen"))
        return events
