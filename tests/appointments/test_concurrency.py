"""50 people ask for the same last slot at once, through a gateway process over real HTTP: the
database gives it to exactly one; the other 49 get a clear 409, and nothing else is written."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from appointments import seed
from appointments.booking import today_local
from core import db
from ventanilla.bench.channels import gateway

PEOPLE = 50


async def prepare(var_dir: Path) -> tuple[int, list[dict[str, str]]]:
    """The demo data, 50 more people of unit 1's morning shift, and one slot left for them."""
    url = f"sqlite:///{var_dir / 'ventanilla.db'}"
    await asyncio.to_thread(db.migrate, url)
    engine = db.create_engine(url)
    today = today_local()
    async with db.session_factory(engine)() as session:
        await seed.seed_demo(session, 11, today)
    await engine.dispose()
    rng = random.Random(5)
    people = []
    with sqlite3.connect(var_dir / "ventanilla.db") as connection:
        taken = {row[0] for row in connection.execute("SELECT curp FROM affiliates")}
        for _ in range(PEOPLE):
            born = today - timedelta(days=rng.randint(20 * 365, 60 * 365))
            name, curp = seed._person(rng, born, rng.choice("HM"), "DF", taken)
            nss = seed.make_nss(rng, born, born.year + 18)
            connection.execute(
                "INSERT INTO affiliates (nss, curp, name, relationship, umf_id, consultorio,"
                " shift, coverage_until, services) VALUES (?, ?, ?, 'titular', 1, 1,"
                " 'matutino', ?, '[\"medicina_familiar\"]')",
                (nss, curp, name, (today + timedelta(days=90)).isoformat()),
            )
            people.append({"nss": nss, "curp": curp})
        slots = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM appointment_slots WHERE umf_id = 1 AND shift = 'matutino'"
                " AND service = 'medicina_familiar' ORDER BY starts_at"
            )
        ]
        last = slots[len(slots) // 2]
        connection.execute(
            "DELETE FROM appointment_slots WHERE umf_id = 1 AND shift = 'matutino'"
            " AND service = 'medicina_familiar' AND id != ?",
            (last,),
        )
    return last, people


async def everyone_at_once(url: str, slot: int, people: list[dict[str, str]]) -> list[Any]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/api/appointments",
                    json={**who, "service": "medicina_familiar", "slot_id": slot},
                )
                for who in people
            )
        )


def test_fifty_people_at_once_for_the_last_slot_one_gets_it(tmp_path: Path) -> None:
    slot, people = asyncio.run(prepare(tmp_path))
    with gateway(tmp_path, {}) as url:
        answers = asyncio.run(everyone_at_once(url, slot, people))
        statuses = Counter(a.status_code for a in answers)
        assert statuses == Counter({201: 1, 409: PEOPLE - 1}), [a.text for a in answers][:3]
        refusals = {a.json()["error"]["code"] for a in answers if a.status_code == 409}
        assert refusals == {"slot_taken"}
        assert all(
            "Alguien más" in a.json()["error"]["message"]
            for a in answers[1:]
            if a.status_code == 409
        )
        # Nothing left to offer now: an empty list, not an error.
        loser = next(p for p, a in zip(people, answers, strict=True) if a.status_code == 409)
        left = httpx.get(
            f"{url}/api/appointments/slots", params={**loser, "service": "medicina_familiar"}
        )
        assert left.status_code == 200 and left.json()["slots"] == []
    with sqlite3.connect(tmp_path / "ventanilla.db") as connection:
        booked = connection.execute(
            "SELECT COUNT(*) FROM appointments WHERE slot_id = ? AND status = 'pendiente'", (slot,)
        ).fetchone()[0]
        total = connection.execute("SELECT COUNT(*) FROM appointments").fetchone()[0]
    assert booked == total == 1
