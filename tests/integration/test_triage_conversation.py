"""The COVID-19 triage and the emergency interrupts through the REST channel of the real system
(gateway, trained Rasa model, action server): the three outcomes, several symptoms in one sentence,
an emergency said in the middle of the form, and the stored assessment."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from triage.emergencies import MESSAGES
from ventanilla.launcher import RunningSystem

pytestmark = pytest.mark.integration


class Person:
    def __init__(self, system: RunningSystem) -> None:
        self.system = system
        self.sender = f"triage-{uuid.uuid4().hex[:12]}"

    def says(self, text: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.system.base_url}/api/messages",
            json={"sender": self.sender, "text": text},
            timeout=90,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def texts(self, text: str) -> str:
        return "\n".join(m["text"] for m in self.says(text)["messages"])


def assessments(system: RunningSystem) -> list[dict[str, Any]]:
    database = Path(system.env["VENTANILLA_VAR_DIR"]) / "ventanilla.db"
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT a.level, a.disposition, a.rules, a.answers, a.channel, c.sender "
            "FROM triage_assessments a JOIN conversations c ON c.id = a.conversation_id"
        ).fetchall()
    return [
        {
            "level": r[0],
            "disposition": r[1],
            "rules": json.loads(r[2]),
            "answers": json.loads(r[3]),
            "channel": r[4],
            "sender": r[5],
        }
        for r in rows
    ]


def answer_until_result(person: Person, age: str, symptoms: str) -> str:
    assert "señales" in person.texts("tengo síntomas de covid")
    person.texts("ninguna de esas")
    person.texts(age)
    person.texts(symptoms)
    person.texts("desde hace 3 días")
    person.texts("ninguna")
    summary = person.texts("no")
    assert "¿Es correcto?" in summary or "correct" in summary.lower()
    return summary


def test_green_with_several_symptoms_in_one_sentence_is_home_care_and_stored(
    system: RunningSystem,
) -> None:
    person = Person(system)
    summary = answer_until_result(person, "tengo 34 años", "tengo tos, fiebre y dolor de garganta")
    assert "Fiebre" in summary and "Tos" in summary and "Dolor de garganta" in summary
    result = person.says("sí, es correcto")
    text = "\n".join(m["text"] for m in result["messages"])
    assert "casa" in text and result["alert"] is None
    [stored] = [a for a in assessments(system) if a["sender"] == person.sender]
    assert (stored["level"], stored["disposition"]) == ("verde", "home_care")
    assert sorted(stored["answers"]["symptoms"]) == ["cough", "fever", "sore_throat"]
    assert stored["channel"] == "rest" and stored["answers"]["age"] == 34


def test_yellow_an_older_person_with_symptoms_goes_to_the_covid_doctors(
    system: RunningSystem,
) -> None:
    person = Person(system)
    answer_until_result(person, "67", "tos y cansancio")
    text = person.texts("sí")
    assert "Orientación Médica" in text
    [stored] = [a for a in assessments(system) if a["sender"] == person.sender]
    assert stored["level"] == "amarillo" and "R3" in stored["rules"]


def test_red_an_emergency_sign_button_ends_the_questions_with_911_and_an_alert(
    system: RunningSystem,
) -> None:
    person = Person(system)
    person.texts("tengo síntomas de covid")
    payload = '/covid_symptoms{"triage_code": "bluish_lips_or_face"}'
    result = person.says(payload)
    assert result["alert"] == {"kind": "respiracion"}
    assert "911" in result["messages"][0]["text"]
    [stored] = [a for a in assessments(system) if a["sender"] == person.sender]
    assert stored["level"] == "rojo" and stored["rules"][0] == "R1"


def test_an_emergency_typed_in_the_middle_of_the_form_interrupts_it(
    system: RunningSystem,
) -> None:
    person = Person(system)
    person.texts("tengo síntomas de covid")
    person.texts("ninguna")
    result = person.says("ya no aguanto, me quiero morir")
    assert result["alert"] == {"kind": "suicidio"}
    assert "800 911 2000" in result["messages"][0]["text"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("tengo la saturación en 82", "respiracion"),
        ("no lo puedo despertar", "inconsciente"),
        ("estoy en la azotea y voy a saltar", "suicidio"),
        ("creo que me está dando un infarto", "infarto"),
    ],
)
def test_emergencies_are_alerts_from_the_first_message(
    system: RunningSystem, text: str, kind: str
) -> None:
    result = Person(system).says(text)
    assert result["alert"] == {"kind": kind}
    assert "911" in result["messages"][0]["text"]


@pytest.mark.parametrize(
    "text",
    [
        "me muero de risa con tus respuestas",
        "¿qué es el código infarto?",
        "ya no quiero esperar, mejor otro día",
    ],
)
def test_figures_of_speech_and_topic_questions_raise_no_alert(
    system: RunningSystem, text: str
) -> None:
    result = Person(system).says(text)
    assert result["alert"] is None
    # (An article about Código Infarto may well name 911: not the emergency's own message.)
    assert not {m["text"] for m in result["messages"]} & set(MESSAGES.values())
