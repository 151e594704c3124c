"""The synchronous REST channel and /health against the real system."""

from __future__ import annotations

import uuid

import httpx
import pytest

from ventanilla.launcher import RunningSystem

pytestmark = pytest.mark.integration


def test_health_reports_every_part_ready(system: RunningSystem) -> None:
    response = httpx.get(f"{system.base_url}/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": True, "rasa": True, "action_server": True},
    }


def test_rest_turn_returns_texts_and_buttons(system: RunningSystem) -> None:
    sender = f"rest-{uuid.uuid4().hex}"
    response = httpx.post(
        f"{system.base_url}/api/messages", json={"sender": sender, "text": "hola"}, timeout=60
    )
    assert response.status_code == 200
    messages = response.json()["messages"]
    assert len(messages) == 3
    assert all(set(m) == {"text", "buttons", "article"} for m in messages)
    assert all(m["article"] is None for m in messages)  # a greeting answers from no article
    assert {"title": "Cita médica", "payload": "/book_appointment"} in messages[-1]["buttons"]

    # A button's payload works as text too: the COVID-19 triage starts with the emergency signs.
    covid = httpx.post(
        f"{system.base_url}/api/messages",
        json={"sender": sender, "text": "/covid_symptoms"},
        timeout=60,
    ).json()["messages"]
    assert "preguntas breves" in covid[0]["text"]
    assert "señales" in covid[1]["text"] and len(covid[1]["buttons"]) >= 6


def test_rest_duplicate_message_id_returns_the_first_answer(system: RunningSystem) -> None:
    body = {"sender": f"rest-{uuid.uuid4().hex}", "text": "hola", "message_id": "m-1"}
    first = httpx.post(f"{system.base_url}/api/messages", json=body, timeout=60).json()
    again = httpx.post(f"{system.base_url}/api/messages", json=body, timeout=60).json()
    assert again == first
    third = httpx.post(
        f"{system.base_url}/api/messages", json={**body, "message_id": "m-2"}, timeout=60
    ).json()
    # A new message in the same conversation: the privacy notice is not repeated.
    assert not any("privacidad" in m["text"] for m in third["messages"])


def test_emergency_wording_is_answered_with_911(system: RunningSystem) -> None:
    sender = f"rest-{uuid.uuid4().hex}"
    messages = httpx.post(
        f"{system.base_url}/api/messages",
        json={"sender": sender, "text": "ya no quiero vivir, me quiero quitar la vida"},
        timeout=60,
    ).json()["messages"]
    text = " ".join(m["text"] for m in messages)
    assert "800 911 2000" in text and "911" in text
