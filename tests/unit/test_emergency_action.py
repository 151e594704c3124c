"""action_emergency: the classifier's emergency weighed with the safety layer (Rasa's trackers
built here; the gateway's side is in test_emergency_turns.py)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop
from rasa_sdk.executor import CollectingDispatcher

from actions.emergency import ActionEmergency
from actions.fallback import ActionFallback

pytestmark = pytest.mark.asyncio


def tracker(text: str, intent: str, confidence: float, loop: str | None = None) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    return Tracker(
        sender_id="c1",
        slots={"requested_slot": "age"} if loop else {},
        latest_message=message,
        events=[{"event": "user", "text": text, "parse_data": message}],
        paused=False,
        followup_action=None,
        active_loop={"name": loop} if loop else {},
        latest_action_name="action_listen",
    )


async def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


async def test_a_real_emergency_asks_the_gateway_and_stops_the_form() -> None:
    messages, events = await run(
        ActionEmergency(),
        tracker("siento que me voy a morir", "emergency_heart_attack", 0.8, loop="triage_form"),
    )
    assert messages[0]["custom"] == {"ventanilla": {"alert": {"kind": "infarto"}}}
    assert ActiveLoop(None) in events


async def test_a_figure_of_speech_is_not_an_emergency_even_at_095() -> None:
    messages, events = await run(
        ActionEmergency(), tracker("me muero de risa con tus respuestas", "emergency_suicide", 0.95)
    )
    assert messages[0]["response"] == "utter_not_an_emergency"
    assert not any("custom" in m and m["custom"] for m in messages)
    assert events == []


async def test_the_fallback_weighs_a_likely_emergency_like_action_emergency() -> None:
    # What the safety layer reads is an emergency whatever the classifier's confidence ...
    messages, _ = await run(
        ActionFallback(), tracker("me duele el pecho horrible", "emergency_heart_attack", 0.3)
    )
    assert messages[0]["custom"] == {"ventanilla": {"alert": {"kind": "infarto"}}}
    # ... an unsure classifier alone is not (these were false alarms through the REST channel).
    for text in ("me duele la espalda", "jaja me muero, que lento", "me muero de risa"):
        messages, _ = await run(ActionFallback(), tracker(text, "emergency_suicide", 0.33))
        assert all(not m.get("custom") for m in messages), text
