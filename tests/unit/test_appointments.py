"""Appointments: NSS and CURP checks, the demo data, and every booking rule through the API
(`/api/appointments`, the app in-process; the concurrency test is tests/integration/
test_appointments_concurrency.py, against a gateway process)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from appointments import seed
from appointments.booking import TZ, today_local
from appointments.identifiers import InvalidIdentifier, normalize_curp, normalize_nss
from core import db
from core.accounts import integrators, service
from core.settings import Settings
from ventanilla.app import create_app
from ventanilla.launcher import free_port

TODAY = today_local()
PASSWORD = "contraseña-de-prueba-1"


@pytest.mark.parametrize("nss", ["92919084431", "12345678903", "9291 9084 431", "92919-084431"])
def test_a_valid_nss_is_kept_as_its_digits(nss: str) -> None:
    assert normalize_nss(nss) == nss.replace(" ", "").replace("-", "")


@pytest.mark.parametrize(
    ("nss", "says"),
    [
        ("9291908443", "11 dígitos y escribiste 10"),
        ("929190844311", "11 dígitos y escribiste 12"),
        ("9291908443a", "solo números"),
        ("92919084432", "verificador"),
        ("", "solo números"),
    ],
)
def test_each_kind_of_wrong_nss_is_explained(nss: str, says: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_nss(nss)
    assert caught.value.field == "nss" and says in caught.value.reason


@pytest.mark.parametrize("curp", ["BOXW310820HNERXN09", "sabc560626mdflrn01 "])
def test_a_valid_curp_is_kept_in_capitals(curp: str) -> None:
    assert normalize_curp(curp) == curp.strip().upper()


@pytest.mark.parametrize(
    ("curp", "says"),
    [
        ("SABC560626MDFLRN0", "18 caracteres y escribiste 17"),
        ("SABC560626MDFLRN02", "verificador"),
        ("SABC561326MDFLRN01", "fecha de nacimiento o el estado"),
        ("SABC560626MZZLRN01", "fecha de nacimiento o el estado"),
        ("1ABC560626MDFLRN01", "forma esperada"),
    ],
)
def test_each_kind_of_wrong_curp_is_explained(curp: str, says: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_curp(curp)
    assert caught.value.field == "curp" and says in caught.value.reason


# ------------------------------------------------------------------ the demo data


def seeded(tmp_path: Path, seed_number: int = 7) -> Settings:
    settings = Settings(
        _env_file=None, var_dir=tmp_path, rasa_port=free_port(), action_port=free_port()
    )
    assert settings.database_url

    async def fill() -> None:
        await asyncio.to_thread(db.migrate, settings.database_url)
        engine = db.create_engine(settings.database_url)
        async with db.session_factory(engine)() as session:
            await seed.seed_demo(session, seed_number, TODAY)
        await engine.dispose()

    asyncio.run(fill())
    return settings


def rows(settings: Settings, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(Path(settings.var_dir) / "ventanilla.db") as connection:
        return list(connection.execute(query, args))


def test_the_demo_data_is_fictitious_well_formed_and_repeatable(tmp_path: Path) -> None:
    settings = seeded(tmp_path / "a")
    people = rows(settings, "SELECT nss, curp, name, umf_id FROM affiliates ORDER BY id")
    umfs = rows(settings, "SELECT name, state, address FROM umfs")
    assert len(umfs) >= 20 and len({state for _, state, _ in umfs}) >= 10
    assert all("(ficticia)" in name and "Ficticia" in address for name, _, address in umfs)
    assert len(people) >= 2000
    for nss, curp, _, _ in people:
        assert normalize_nss(nss) == nss and normalize_curp(curp) == curp
    assert len({curp for _, curp, _, _ in people}) == len(people)
    days = rows(settings, "SELECT MIN(starts_at), MAX(starts_at) FROM appointment_slots")[0]
    first, last = date.fromisoformat(days[0][:10]), date.fromisoformat(days[1][:10])
    assert first >= TODAY + timedelta(days=1) and (last - first).days >= 24  # four weeks
    # The same seed and day: the same people.
    again = seeded(tmp_path / "b")
    assert rows(again, "SELECT nss, curp, name FROM affiliates ORDER BY id") == [
        p[:3] for p in people
    ]


# ------------------------------------------------------------------ the rules, through the API


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    settings = seeded(tmp_path_factory.mktemp("citas"))
    with TestClient(create_app(settings)) as client:
        yield client, settings


def person(settings: Settings, *, expired: bool = False, skip: int = 0) -> dict[str, Any]:
    """A demo person with both services at their unit (or with coverage that ended)."""
    op = "<" if expired else ">="
    nss, curp, umf_id, shift = rows(
        settings,
        "SELECT a.nss, a.curp, a.umf_id, a.shift FROM affiliates a JOIN umfs u ON u.id = a.umf_id"
        f" WHERE a.coverage_until {op} ? AND u.services LIKE '%estomatologia%' ORDER BY a.id"
        " LIMIT 1 OFFSET ?",
        TODAY.isoformat(),
        skip,
    )[0]
    return {"nss": nss, "curp": curp, "umf_id": umf_id, "shift": shift}


def slots(client: TestClient, who: dict[str, Any], service: str, **params: Any) -> Any:
    return client.get(
        "/api/appointments/slots",
        params={"nss": who["nss"], "curp": who["curp"], "service": service, **params},
    )


def book(client: TestClient, who: dict[str, Any], service: str, slot_id: int) -> Any:
    return client.post(
        "/api/appointments",
        json={"nss": who["nss"], "curp": who["curp"], "service": service, "slot_id": slot_id},
    )


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_book_list_reschedule_and_cancel(demo: tuple[TestClient, Settings]) -> None:
    client, settings = demo
    ana = person(settings, skip=0)
    offered = slots(client, ana, "medicina_familiar")
    assert offered.status_code == 200, offered.text
    body = offered.json()
    assert body["shift"] == ana["shift"] and 1 <= len(body["slots"]) <= 5
    first = body["slots"][0]
    assert datetime.fromisoformat(first["starts_at"]).astimezone(TZ).date() > TODAY

    booked = book(client, ana, "medicina_familiar", first["id"])
    assert booked.status_code == 201, booked.text
    folio = booked.json()["folio"]
    assert folio.startswith("CM-") and "15 minutos antes" in booked.json()["message"]
    assert booked.json()["umf"]["address"] in booked.json()["message"]
    # The slot is no longer offered; one pending appointment per service.
    assert first["id"] not in [
        s["id"] for s in slots(client, ana, "medicina_familiar").json()["slots"]
    ]
    again = book(client, ana, "medicina_familiar", body["slots"][1]["id"])
    assert error(again) == (422, "already_booked") and folio in again.json()["error"]["message"]
    # Dentistry is another service: allowed at once.
    dental = slots(client, ana, "estomatologia").json()["slots"][0]
    assert book(client, ana, "estomatologia", dental["id"]).status_code == 201

    listed = client.get("/api/appointments", params={"nss": ana["nss"], "curp": ana["curp"]})
    assert sorted(a["service"] for a in listed.json()) == ["estomatologia", "medicina_familiar"]

    moved = client.put(
        f"/api/appointments/{folio}",
        json={"nss": ana["nss"], "curp": ana["curp"], "slot_id": body["slots"][2]["id"]},
    )
    assert moved.status_code == 200, moved.text
    new_folio = moved.json()["folio"]
    assert new_folio != folio
    # The old slot is free again.
    assert first["id"] in [s["id"] for s in slots(client, ana, "medicina_familiar").json()["slots"]]

    gone = client.delete(f"/api/appointments/{new_folio}", params={"nss": ana["nss"]})
    assert gone.status_code == 200 and "Cancelé" in gone.json()["message"]
    assert error(client.delete(f"/api/appointments/{new_folio}", params={"nss": ana["nss"]})) == (
        404,
        "not_found",
    )
    # Someone else's NSS cannot cancel it.
    [left] = client.get("/api/appointments", params=ana).json()
    dental_folio = left["folio"]
    other = person(settings, skip=5)
    assert (
        client.delete(f"/api/appointments/{dental_folio}", params={"nss": other["nss"]}).status_code
        == 404
    )


def test_every_rule_refuses_with_its_reason(demo: tuple[TestClient, Settings]) -> None:
    client, settings = demo
    beto = person(settings, skip=1)
    assert error(slots(client, {**beto, "nss": "12345"}, "medicina_familiar")) == (
        422,
        "invalid_nss",
    )
    assert (
        error(slots(client, {**beto, "curp": beto["curp"][:-1] + "X"}, "medicina_familiar"))[0]
        == 422
    )
    other_curp = person(settings, skip=40)["curp"]
    assert error(slots(client, {**beto, "curp": other_curp}, "medicina_familiar")) == (
        422,
        "identity_mismatch",
    )
    assert error(slots(client, {**beto, "nss": "12345678903"}, "medicina_familiar")) == (
        422,
        "not_registered",
    )
    expired = person(settings, expired=True)
    refused = slots(client, expired, "medicina_familiar")
    assert error(refused) == (422, "coverage_expired") and "vigencia" in refused.text
    assert error(slots(client, beto, "cardiologia")) == (422, "service_not_bookable")
    for day in (TODAY, TODAY + timedelta(days=29)):
        assert error(slots(client, beto, "medicina_familiar", date=day.isoformat())) == (
            422,
            "date_out_of_range",
        )
    # Slots of another unit, of the other shift: refused by id.
    other_umf = rows(
        settings,
        "SELECT id FROM appointment_slots WHERE umf_id != ? AND service = 'medicina_familiar'"
        " AND shift = ? LIMIT 1",
        beto["umf_id"],
        beto["shift"],
    )[0][0]
    assert error(book(client, beto, "medicina_familiar", other_umf)) == (422, "other_umf")
    other_shift = rows(
        settings,
        "SELECT id FROM appointment_slots WHERE umf_id = ? AND service = 'medicina_familiar'"
        " AND shift != ? LIMIT 1",
        beto["umf_id"],
        beto["shift"],
    )[0][0]
    assert error(book(client, beto, "medicina_familiar", other_shift)) == (422, "other_shift")
    dental = rows(
        settings,
        "SELECT id FROM appointment_slots WHERE umf_id = ? AND service = 'estomatologia'"
        " AND shift = ? LIMIT 1",
        beto["umf_id"],
        beto["shift"],
    )[0][0]
    assert error(book(client, beto, "medicina_familiar", dental)) == (422, "other_service")
    assert error(book(client, beto, "medicina_familiar", 10**12)) == (404, "slot_not_found")
    # A date in the window starts the search there.
    later = TODAY + timedelta(days=10)
    found = slots(client, beto, "medicina_familiar", date=later.isoformat()).json()["slots"]
    assert found and all(s["starts_at"][:10] >= later.isoformat() for s in found)


def test_a_slot_taken_meanwhile_is_409(demo: tuple[TestClient, Settings]) -> None:
    client, settings = demo
    carla = person(settings, skip=2)
    dora = dict(carla)
    # Dora: another person of the same unit and shift.
    nss, curp = rows(
        settings,
        "SELECT nss, curp FROM affiliates WHERE umf_id = ? AND shift = ? AND curp != ?"
        " AND coverage_until >= ? LIMIT 1",
        carla["umf_id"],
        carla["shift"],
        carla["curp"],
        TODAY.isoformat(),
    )[0]
    dora.update(nss=nss, curp=curp)
    slot = slots(client, carla, "medicina_familiar").json()["slots"][0]["id"]
    assert book(client, carla, "medicina_familiar", slot).status_code == 201
    taken = book(client, dora, "medicina_familiar", slot)
    assert error(taken) == (409, "slot_taken") and "Alguien más" in taken.json()["error"]["message"]


# ------------------------------------------------------------------ who may call


def test_staff_of_cita_medica_and_integrators_keys_may_call_no_one_else(tmp_path: Path) -> None:
    settings = seeded(tmp_path)
    assert settings.database_url

    async def accounts() -> str:
        engine = db.create_engine(settings.database_url or "")
        async with db.session_factory(engine)() as session:
            await service.create_user(session, "ceci.citas", PASSWORD, "agent", ["cita_medica"])
            await service.create_user(session, "dani.denuncias", PASSWORD, "agent", ["denuncias"])
            key = await integrators.create_key(session, "recordatorios")
        await engine.dispose()
        return key

    key = asyncio.run(accounts())
    who = person(settings)
    params = {"nss": who["nss"], "curp": who["curp"], "service": "medicina_familiar"}
    with TestClient(create_app(settings)) as client:

        def bearer(username: str) -> dict[str, str]:
            answer = client.post(
                "/api/auth/login", json={"username": username, "password": PASSWORD}
            )
            return {"Authorization": f"Bearer {answer.json()['token']}"}

        assert client.get("/api/appointments/slots", params=params).status_code == 401
        assert (
            client.get(
                "/api/appointments/slots", params=params, headers={"X-API-Key": key}
            ).status_code
            == 200
        )
        assert (
            client.get(
                "/api/appointments/slots", params=params, headers=bearer("ceci.citas")
            ).status_code
            == 200
        )
        refused = client.get(
            "/api/appointments/slots", params=params, headers=bearer("dani.denuncias")
        )
        assert error(refused) == (403, "forbidden") and "Cita Médica" in refused.text
    audit = rows(settings, "SELECT action, actor, target FROM audit_events ORDER BY id")
    assert ("appointments_api", "ceci.citas", "GET /api/appointments/slots") in audit
    assert ("api_key_use", "recordatorios", "GET /api/appointments/slots") in audit
    assert not any(who["nss"] in str(row) for row in audit)  # personal data stays out
