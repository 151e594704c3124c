"""The booking dialogue's readings of free answers (actions/appointments.py): who the patient is,
which service, which offered time."""

from __future__ import annotations

import logging

import pytest
from rasa_sdk import Tracker

from actions.appointments import pick, read_patient, read_service
from actions.handoff import handoff_request
from core.privacy import mask_values

OFFERED = [  # as the API gives them: starts_at in UTC (Mexico City is UTC-6)
    {"id": 1, "label": "martes 8 de diciembre, 08:20", "starts_at": "2026-12-08T14:20:00Z"},
    {"id": 2, "label": "martes 8 de diciembre, 10:00", "starts_at": "2026-12-08T16:00:00Z"},
    {"id": 3, "label": "miércoles 9 de diciembre, 16:40", "starts_at": "2026-12-09T22:40:00Z"},
]


@pytest.mark.parametrize(
    ("said", "patient"),
    [
        ("para mí", "titular"),
        ("Para mi", "titular"),
        ("yo", "titular"),
        ("beneficiario", "beneficiario"),
        ("para mi hijo", "beneficiario"),
        ("es para mi mamá", "beneficiario"),
        ("mi esposa", "beneficiario"),
        ("qué", None),
    ],
)
def test_who_the_patient_is(said: str, patient: str | None) -> None:
    assert read_patient(said) == patient


@pytest.mark.parametrize(
    ("said", "service"),
    [
        ("medicina familiar", "medicina_familiar"),
        ("con el médico", "medicina_familiar"),
        ("doctor familiar", "medicina_familiar"),
        ("dentista", "estomatologia"),
        ("me duele una muela", "estomatologia"),
        ("estomatología", "estomatologia"),
        ("cardiólogo", None),
    ],
)
def test_which_service(said: str, service: str | None) -> None:
    assert read_service(said) == service


@pytest.mark.parametrize(
    ("said", "slot"),
    [
        ("el primero", 1),
        ("la segunda", 2),
        ("el último", 3),
        ("2", 2),
        ("el de las 10", 2),
        ("el de las 4:40 de la tarde", 3),
        ("el de las 8:20", 1),
        ("el de las 7", None),
        ("ninguno", None),
    ],
)
def test_which_offered_time(said: str, slot: int | None) -> None:
    chosen = pick(said, OFFERED)
    assert (chosen["id"] if chosen else None) == slot


def test_a_person_asked_for_mid_booking_reaches_the_agent_with_the_booking_masked() -> None:
    slots = {
        "appt_patient": "titular",
        "appt_nss": "92919084431",
        "appt_curp": "BOXW310820HNERXN09",
        "appt_service": "estomatologia",
        "appt_day": "2026-12-09|matutino",
        "appt_offered": [{"id": 1, "label": "x"}],
        "appt_tries": 1,
    }
    message = {"text": "quiero hablar con alguien", "intent": {"name": "request_human"}}
    tracker = Tracker("c1", slots, message, [], False, None, {}, "action_listen")
    context = handoff_request(tracker)["context"]["slots"]
    assert context["appt_service"] == "estomatologia" and "appt_offered" not in context
    shown = str(mask_values({"slots": context}))  # what the console shows unless revealed
    assert "92919084431" not in shown and "BOXW310820HNERXN09" not in shown
    assert "estomatologia" in shown and "2026-12-09" in shown


def test_the_api_calls_leave_no_nss_or_curp_in_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    logging.getLogger("httpx").info(
        'HTTP Request: %s %s "%s"',
        "GET",
        "http://127.0.0.1:8000/api/appointments?nss=92919084431&curp=BOXW310820HNERXN09",
        "HTTP/1.1 200 OK",
    )
    [line] = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert "92919084431" not in line and "BOXW310820HNERXN09" not in line
    assert "/api/appointments?nss=" in line and "200 OK" in line
