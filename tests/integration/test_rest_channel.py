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


def listening_addresses(port: int) -> set[str]:
    """The IPv4/IPv6 addresses with a socket listening on `port` (from /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # LISTEN
                    found.add(address)
    return found


def test_rasa_and_the_action_server_are_internal(system: RunningSystem) -> None:
    """Rasa's HTTP API answers only with the token the gateway has; Rasa and the action server
    listen on loopback only, so nobody on the network can post trackers to them."""
    rasa = f"http://127.0.0.1:{system.env['VENTANILLA_RASA_PORT']}"
    assert httpx.get(f"{rasa}/status", timeout=10).status_code == 401
    token = system.env["VENTANILLA_RASA_TOKEN"]
    assert httpx.get(f"{rasa}/status", params={"token": token}, timeout=10).status_code == 200
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1
    for port in (system.env["VENTANILLA_ACTION_PORT"], system.env["VENTANILLA_RASA_PORT"]):
        addresses = listening_addresses(int(port))
        assert addresses and addresses <= loopback, (port, addresses)
