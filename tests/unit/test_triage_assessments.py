"""Staff's listing and export of the stored triage assessments (GET /api/triage/assessments and
assessments.csv) on a temporary database: who may see them, filters, masking, the audit log, a
CSV a spreadsheet cannot be tricked by. Assessments are seeded through the model."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core import conversations as store
from core import db
from core.accounts import service as accounts
from core.accounts.models import AuditEvent
from core.settings import Settings
from triage.models import Assessment
from ventanilla.app import create_app
from ventanilla.launcher import free_port

PASSWORD = "contraseña-de-prueba-1"
NO_SYMPTOMS = {
    "age": 30,
    "emergency_signs": [],
    "symptoms": [],
    "symptom_days": 0,
    "risk_factors": [],
    "exposure": "no",
}


def at(day: int, hour: int = 18) -> datetime:
    """18:00 UTC is noon in Mexico City: the same local day."""
    return datetime(2024, 3, day, hour, tzinfo=UTC)


async def prepare(settings: Settings) -> None:
    assert settings.database_url
    await asyncio.to_thread(db.migrate, settings.database_url)
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    async with sessions() as session:
        for username, role, campaigns in (
            ("omar", "agent", ["omt_covid"]),
            ("ana", "agent", ["derechohabiente"]),
            ("sofia", "supervisor", []),
            ("mara", "supervisor", ["salud_mental"]),
            ("eli", "editor", []),
            ("root", "admin", []),
        ):
            await accounts.create_user(session, username, PASSWORD, role, campaigns)
        phone = await store.get_or_create_conversation(session, "rest", "+52 55 1234 5678")
        web = await store.get_or_create_conversation(session, "webchat", "sesion-abcdef0123456789")
        session.add_all(
            [
                Assessment(
                    conversation_id=phone.id,
                    channel="rest",
                    answers={**NO_SYMPTOMS, "emergency_signs": ["cyanosis"], "age": 61},
                    level="rojo",
                    disposition="emergency",
                    rules=["R1", "R3", "R6"],
                    protocol_version="covid-2020.1",
                    created_at=at(1),
                ),
                Assessment(
                    conversation_id=web.id,
                    channel="webchat",
                    # Never written by the form, but a stored value is not trusted.
                    answers={**NO_SYMPTOMS, "exposure": '=HYPERLINK("x") 5512345678'},
                    level="verde",
                    disposition="prevention",
                    rules=["R8"],
                    protocol_version="-covid-2020.1",
                    created_at=at(2),
                ),
                Assessment(
                    conversation_id=None,
                    channel="cli",
                    answers={**NO_SYMPTOMS, "symptoms": ["fever", "cough"], "symptom_days": 7},
                    level="amarillo",
                    disposition="remote_medical_orientation",
                    rules=["R5", "R6"],
                    protocol_version="covid-2020.1",
                    created_at=at(3),
                ),
            ]
        )
        await session.commit()
    await engine.dispose()


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    settings = Settings(
        _env_file=None, var_dir=tmp_path, rasa_port=free_port(), action_port=free_port()
    )
    asyncio.run(prepare(settings))
    with TestClient(create_app(settings)) as test_client:
        yield test_client, settings


@pytest.fixture
def client(app_client: tuple[TestClient, Settings]) -> TestClient:
    return app_client[0]


def bearer(client: TestClient, username: str) -> dict[str, str]:
    token = client.post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def audit(settings: Settings, action: str) -> list[AuditEvent]:
    async def read() -> list[AuditEvent]:
        assert settings.database_url
        engine = db.create_engine(settings.database_url)
        try:
            async with db.session_factory(engine)() as session:
                rows = await session.execute(
                    select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
                )
                return list(rows.scalars())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def listing(client: TestClient, username: str, **params: Any) -> Any:
    response = client.get(
        "/api/triage/assessments", headers=bearer(client, username), params=params
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("username", ["omar", "sofia", "root"])
def test_the_covid_campaigns_staff_supervisors_and_admins_see_them_newest_first(
    client: TestClient, username: str
) -> None:
    data = listing(client, username)
    assert data["total"] == 3
    assert [a["level"] for a in data["results"]] == ["amarillo", "verde", "rojo"]
    rojo = data["results"][2]
    assert rojo["rules"] == ["R1", "R3", "R6"] and rojo["disposition"] == "emergency"
    assert rojo["protocol_version"] == "covid-2020.1" and rojo["channel"] == "rest"
    assert rojo["answers"]["emergency_signs"] == ["cyanosis"] and rojo["answers"]["age"] == 61
    assert data["results"][0]["sender"] is None  # assessed outside a conversation


@pytest.mark.parametrize(
    ("username", "status"), [("ana", 403), ("mara", 403), ("eli", 403), (None, 401)]
)
def test_anyone_else_is_refused_both_listing_and_export(
    client: TestClient, username: str | None, status: int
) -> None:
    headers = bearer(client, username) if username else {}
    for path in ("/api/triage/assessments", "/api/triage/assessments.csv"):
        assert client.get(path, headers=headers).status_code == status, path


def test_senders_and_text_in_answers_are_masked_even_for_an_admin(client: TestClient) -> None:
    results = listing(client, "root")["results"]
    by_level = {a["level"]: a for a in results}
    assert by_level["rojo"]["sender"] == "••••••5678"
    assert "abcdef0123" not in by_level["verde"]["sender"]
    assert "5512345678" not in by_level["verde"]["answers"]["exposure"]
    assert by_level["verde"]["answers"]["exposure"].endswith("••••••••78")


def test_filters_by_level_days_and_limit(client: TestClient) -> None:
    assert [a["level"] for a in listing(client, "omar", level="rojo")["results"]] == ["rojo"]
    days = listing(client, "omar", date_from="2024-03-02", date_to="2024-03-02")["results"]
    assert [a["level"] for a in days] == ["verde"]
    since = listing(client, "omar", date_from="2024-03-02")["results"]
    assert [a["level"] for a in since] == ["amarillo", "verde"]
    assert [a["level"] for a in listing(client, "omar", limit=1)["results"]] == ["amarillo"]
    headers = bearer(client, "omar")
    for params in ({"level": "morado"}, {"limit": 0}):
        bad = client.get("/api/triage/assessments", headers=headers, params=params)
        assert bad.status_code == 422, params
    bad_day = client.get("/api/triage/assessments", headers=headers, params={"date_to": "1/3"})
    assert bad_day.status_code == 400 and "hasta" in bad_day.json()["error"]["message"]


def test_each_listing_and_export_is_audited_with_who_and_what_filter(
    app_client: tuple[TestClient, Settings],
) -> None:
    client, settings = app_client
    listing(client, "omar", level="verde", date_from="2024-03-01")
    client.get("/api/triage/assessments.csv", headers=bearer(client, "sofia"))
    client.get("/api/triage/assessments", headers=bearer(client, "ana"))  # refused: not audited
    [view] = audit(settings, "triage_assessments_view")
    assert view.actor == "omar" and view.target == "1 evaluaciones"
    assert view.detail["filters"] == {
        "level": "verde",
        "date_from": "2024-03-01",
        "date_to": None,
        "limit": None,
    }
    [export] = audit(settings, "triage_assessments_export")
    assert export.actor == "sofia" and export.target == "3 evaluaciones"
    assert export.detail["format"] == "csv" and export.detail["campaign"] == "omt_covid"


def test_the_csv_is_masked_and_safe_against_formulas(client: TestClient) -> None:
    response = client.get(
        "/api/triage/assessments.csv", headers=bearer(client, "omar"), params={"level": "verde"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    [header, row] = list(csv.reader(io.StringIO(response.text)))
    cells = dict(zip(header, row, strict=True))
    assert cells["nivel"] == "verde" and cells["reglas"] == "R8"
    assert cells["contacto con un caso"].startswith("'=HYPERLINK")
    assert "5512345678" not in response.text and "abcdef0123" not in response.text
    assert cells["versión del protocolo"] == "'-covid-2020.1"
    # A web chat sender is the person's session secret: staff get an opaque label, no part of it.
    assert cells["remitente"].startswith("web-") and "sesi" not in cells["remitente"]


def test_the_csv_lists_answers_in_their_own_columns(client: TestClient) -> None:
    response = client.get(
        "/api/triage/assessments.csv", headers=bearer(client, "root"), params={"level": "amarillo"}
    )
    [header, row] = list(csv.reader(io.StringIO(response.text)))
    cells = dict(zip(header, row, strict=True))
    assert cells["síntomas"] == "fever; cough" and cells["días con síntomas"] == "7"
    assert cells["remitente"] == "" and cells["canal"] == "cli"


def test_the_page_is_served_in_the_shell_and_linked_in_the_staff_navigation(
    client: TestClient,
) -> None:
    page = client.get("/evaluaciones")
    assert (
        page.status_code == 200 and "<title>Evaluaciones COVID-19 — Ventanilla</title>" in page.text
    )
    assert 'href="/api/triage/assessments.csv"' in page.text
    assert client.get("/evaluaciones/static/assessments.js").status_code == 200
    shared = client.get("/static/staff.js").text
    assert 'href: "/evaluaciones"' in shared and 'campaign: "omt_covid"' in shared
