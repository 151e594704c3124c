"""The triage form's checks and the result action, with rasa_sdk trackers built here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import triage as actions
from core.conversations import Conversation
from core.db import create_engine, migrate, session_factory
from core.protocol import EmergencyKind
from core.settings import PROJECT_ROOT, Settings
from triage import engine, records
from triage.answers import check, complete
from triage.models import Assessment

DOMAIN = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
NOTHING = {slot: None for slot in actions.SLOTS}


def tracker(
    text: str = "", slots: dict[str, Any] | None = None, intent: str = "covid_symptoms"
) -> Tracker:
    return Tracker(
        sender_id="k-123",
        slots={**NOTHING, **(slots or {})},
        latest_message={"text": text, "intent": {"name": intent}, "metadata": {"channel": "web"}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": "triage_form"},
        latest_action_name="action_listen",
    )


def validate(slot: str, text: str, **kwargs: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    method = getattr(actions.ValidateTriageForm(), f"validate_{slot}")
    slots = {"requested_slot": slot, **kwargs.pop("slots", {})}
    result = method(text, dispatcher, tracker(text, slots=slots, **kwargs), DOMAIN)
    return result, dispatcher.messages


@pytest.mark.asyncio
async def test_the_message_that_starts_the_form_is_not_taken_for_an_answer() -> None:
    for said in ("/covid_symptoms", "tengo síntomas de covid"):
        dispatcher = CollectingDispatcher()
        events = await actions.ValidateTriageForm().run(dispatcher, tracker(said), DOMAIN)
        assert events == [] and dispatcher.messages == []


def test_every_slot_the_form_asks_has_a_validator_and_a_question() -> None:
    form = actions.ValidateTriageForm()
    responses, names = DOMAIN["responses"], set(DOMAIN["actions"])
    for slot in DOMAIN["forms"]["triage_form"]["required_slots"]:
        assert hasattr(form, f"validate_{slot}"), slot
        assert f"utter_ask_{slot}" in responses or f"action_ask_{slot}" in names, slot
    assert [*actions.FIELDS, actions.CONFIRMED] == DOMAIN["forms"]["triage_form"]["required_slots"]


def test_every_disposition_but_the_emergency_has_its_advice_in_the_domain() -> None:
    for disposition in engine.load().dispositions:
        if disposition != "emergency":
            assert f"utter_triage_{disposition}" in DOMAIN["responses"], disposition


async def test_an_emergency_sign_in_free_text_ends_the_questions() -> None:
    result, _ = validate("triage_emergency_signs", "me falta mucho el aire")
    assert result == {"triage_emergency_signs": ["severe_breathing_difficulty"]}
    signs = ["severe_breathing_difficulty"]
    required = await actions.ValidateTriageForm().required_slots(
        ["triage_emergency_signs", "triage_age"],
        CollectingDispatcher(),
        tracker(slots={"triage_emergency_signs": signs}),
        DOMAIN,
    )
    assert required == ["triage_emergency_signs"]


def test_a_good_oximeter_reading_is_explained_and_the_question_asked_again() -> None:
    result, messages = validate("triage_emergency_signs", "saturo 92")
    assert result == {"triage_emergency_signs": None}
    assert messages[0]["response"] == "utter_triage_saturation_ok"
    assert messages[0]["reading"] == 92
    result, _ = validate("triage_emergency_signs", '/covid_symptoms{"triage_code": "none"}')
    assert result == {"triage_emergency_signs": []}


def test_an_emergency_said_in_a_later_answer_is_caught() -> None:
    result, _ = validate("triage_age", "tengo 70 y me estoy poniendo morado")
    assert result == {"triage_age": 70, "triage_emergency_signs": ["bluish_lips_or_face"]}


def test_several_symptoms_in_one_sentence_and_none_skips_the_days() -> None:
    result, _ = validate("triage_symptoms", "tengo fiebre, tos y me duele la cabeza")
    assert result == {
        "triage_symptoms": ["fever", "cough", "headache"],
        actions.PICKED: None,
    }
    result, _ = validate("triage_symptoms", "ninguno")
    assert result == {"triage_symptoms": [], actions.PICKED: None, "triage_symptom_days": 0}


def test_symptoms_picked_one_button_at_a_time_until_es_todo() -> None:
    result, _ = validate("triage_symptoms", '/covid_symptoms{"triage_code": "fever"}')
    assert result == {"triage_symptoms": None, actions.PICKED: ["fever"]}
    result, _ = validate(
        "triage_symptoms",
        '/covid_symptoms{"triage_code": "cough"}',
        slots={actions.PICKED: ["fever"]},
    )
    assert result == {"triage_symptoms": None, actions.PICKED: ["fever", "cough"]}
    result, _ = validate(
        "triage_symptoms",
        '/covid_symptoms{"triage_code": "done"}',
        slots={actions.PICKED: ["fever", "cough"]},
    )
    assert result == {"triage_symptoms": ["fever", "cough"], actions.PICKED: None}
    result, _ = validate("triage_risk_factors", "es todo", slots={actions.PICKED: ["diabetes"]})
    assert result == {"triage_risk_factors": ["diabetes"], actions.PICKED: None}


def test_answers_not_understood_are_asked_again() -> None:
    for slot, text in [
        ("triage_age", "no sé"),
        ("triage_symptom_days", "quién sabe"),
        ("triage_symptoms", "mi pensión"),
        ("triage_exposure", "mañana"),
    ]:
        result, messages = validate(slot, text)
        assert result[slot] is None, slot
        assert messages, slot


def test_corregir_starts_the_questions_again() -> None:
    result, messages = validate("triage_confirmed", "/deny", intent="deny")
    assert result == NOTHING
    assert messages[0]["response"] == "utter_triage_restart"
    result, _ = validate("triage_confirmed", "/affirm", intent="affirm")
    assert result == {"triage_confirmed": True}


async def test_the_ask_actions_offer_the_protocols_options_and_after_a_pick_the_rest() -> None:
    dispatcher = CollectingDispatcher()
    await actions.ActionAskTriageEmergencySigns().run(dispatcher, tracker(), DOMAIN)
    buttons = dispatcher.messages[0]["buttons"]
    assert len(buttons) == len(engine.load().codes["emergency_signs"]) + 1
    assert buttons[-1]["title"] == "Ninguno de estos"
    dispatcher = CollectingDispatcher()
    await actions.ActionAskTriageSymptoms().run(
        dispatcher, tracker(slots={actions.PICKED: ["fever"]}), DOMAIN
    )
    message = dispatcher.messages[0]
    assert message["response"] == "utter_ask_triage_more_symptoms"
    assert message["picked"] == "Fiebre"
    assert "Fiebre" not in [b["title"] for b in message["buttons"]]
    assert message["buttons"][-1]["title"] == "Es todo"


ANSWERED = {
    "triage_emergency_signs": [],
    "triage_age": 35,
    "triage_symptoms": ["fever", "cough"],
    "triage_symptom_days": 2,
    "triage_risk_factors": [],
    "triage_exposure": "no",
    "triage_confirmed": True,
}


async def result_of(
    slots: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[dict[str, Any]], list[Any], list[tuple[Any, ...]]]:
    stored: list[tuple[Any, ...]] = []

    async def record(*args: Any) -> int:
        stored.append(args)
        return 1

    monkeypatch.setattr(records, "record", record)
    dispatcher = CollectingDispatcher()
    events = await actions.ActionTriageResult().run(dispatcher, tracker(slots=slots), DOMAIN)
    return dispatcher.messages, events, stored


async def test_verde_gives_home_care_and_stores_the_assessment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages, events, stored = await result_of(ANSWERED, monkeypatch)
    assert messages[0]["text"] == engine.load().dispositions["home_care"]
    assert messages[1]["response"] == "utter_triage_home_care"
    assert not any(m.get("custom") for m in messages)
    [(answers, outcome, key, channel)] = stored
    assert (outcome.level, outcome.rules, key, channel) == ("verde", ("R6",), "k-123", "web")
    assert answers["symptoms"] == ["fever", "cough"]
    assert all(e["value"] is None for e in events)  # the next triage starts blank


async def test_amarillo_hands_off_to_the_covid_doctors_with_the_assessment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slots = {**ANSWERED, "triage_age": 67}
    messages, events, _ = await result_of(slots, monkeypatch)
    assert messages[0]["text"] == engine.load().dispositions["remote_medical_orientation"]
    handoff = messages[2]["custom"]["ventanilla"]["handoff"]
    assert (handoff["campaign"], handoff["priority"], handoff["reason"]) == (
        "omt_covid",
        "high",
        "triage_amarillo",
    )
    assert "Edad: 67 años" in handoff["summary"]
    assert "Fiebre, Tos" in handoff["summary"]
    assessment = handoff["context"]["assessment"]
    assert assessment["level"] == "amarillo"
    assert assessment["rules"] == ["R3", "R6"]
    assert assessment["answers"]["age"] == 67
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "handoff_campaign",
        "value": "omt_covid",
    } in (events)


@pytest.mark.parametrize(
    ("signs", "kind"),
    [
        (["chest_pain"], EmergencyKind.INFARTO),
        (["hard_to_wake"], EmergencyKind.INCONSCIENTE),
        (["low_oxygen_saturation"], EmergencyKind.RESPIRACION),
        (["bluish_lips_or_face", "chest_pain"], EmergencyKind.INFARTO),
    ],
)
async def test_rojo_only_asks_the_gateway_for_its_emergency_answer(
    signs: list[str], kind: EmergencyKind, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages, _, stored = await result_of({"triage_emergency_signs": signs}, monkeypatch)
    assert messages == [{**messages[0], "custom": {"ventanilla": {"alert": {"kind": str(kind)}}}}]
    assert not messages[0].get("text") and not messages[0].get("response")
    [(answers, outcome, *_)] = stored
    assert outcome.level == "rojo"
    assert answers["symptoms"] == [] and answers["exposure"] == "unknown"  # unasked: neutral


async def test_quarantine_and_prevention_have_their_own_advice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_symptoms = {**ANSWERED, "triage_symptoms": [], "triage_symptom_days": 0}
    messages, _, _ = await result_of({**no_symptoms, "triage_exposure": "yes"}, monkeypatch)
    assert messages[1]["response"] == "utter_triage_quarantine"
    messages, _, _ = await result_of(no_symptoms, monkeypatch)
    assert messages[1]["response"] == "utter_triage_prevention"


async def test_an_assessment_is_stored_with_its_conversation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate(url)
    settings = Settings(var_dir=tmp_path, database_url=url)
    db = create_engine(url)
    sessions = session_factory(db)
    async with sessions() as session:
        session.add(Conversation(key="k-123", channel="telegram", sender="s"))
        await session.commit()
    protocol = engine.load()
    answers = check(protocol, complete({"emergency_signs": ["chest_pain"]}))
    outcome = engine.assess(protocol, answers)
    first = await records.record(answers, outcome, "k-123", None, settings)
    second = await records.record(answers, outcome, "unknown-key", "web", settings)
    async with sessions() as session:
        rows = {r.id: r for r in (await session.scalars(select(Assessment))).all()}
        conversation = await session.scalar(select(Conversation))
    await db.dispose()
    assert rows[first].conversation_id == conversation.id
    assert rows[first].channel == "telegram"  # the conversation's, when the message says none
    assert (rows[first].level, rows[first].rules) == ("rojo", ["R1", "R8"])
    assert rows[first].protocol_version == "covid-2020.1"
    assert (rows[second].conversation_id, rows[second].channel) == (None, "web")
