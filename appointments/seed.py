"""`ventanilla seed-demo`: fictitious units, people and four weeks of slots for the built-in
registry and schedule, the same for the same seed and day.

Everything is invented and says so: unit names end in "(ficticia)", addresses are on "Calle
Ficticia". Each person's NSS passes its Luhn check and each CURP is built as RENAPO builds one
(letters of the names, birth date, sex, state, inner consonants, differentiator) with its check
digit, so the rules see them as well-formed; about 1 in 10 has coverage that ended.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum import luhn
from stdnum.mx import curp as stdnum_curp

from appointments.booking import TZ, window
from appointments.models import Affiliate, Appointment, Service, Shift, Slot, Umf

STATES = [  # (RENAPO code, name, municipality)
    ("DF", "Ciudad de México", "Coyoacán"),
    ("DF", "Ciudad de México", "Iztapalapa"),
    ("DF", "Ciudad de México", "Gustavo A. Madero"),
    ("MC", "Estado de México", "Ecatepec"),
    ("MC", "Estado de México", "Naucalpan"),
    ("MC", "Estado de México", "Toluca"),
    ("JC", "Jalisco", "Guadalajara"),
    ("JC", "Jalisco", "Zapopan"),
    ("NL", "Nuevo León", "Monterrey"),
    ("NL", "Nuevo León", "Guadalupe"),
    ("PL", "Puebla", "Puebla"),
    ("VZ", "Veracruz", "Xalapa"),
    ("VZ", "Veracruz", "Veracruz"),
    ("GT", "Guanajuato", "León"),
    ("YN", "Yucatán", "Mérida"),
    ("CH", "Chihuahua", "Ciudad Juárez"),
    ("BC", "Baja California", "Tijuana"),
    ("SR", "Sonora", "Hermosillo"),
    ("OC", "Oaxaca", "Oaxaca de Juárez"),
    ("CS", "Chiapas", "Tuxtla Gutiérrez"),
    ("QT", "Querétaro", "Querétaro"),
    ("SP", "San Luis Potosí", "San Luis Potosí"),
    ("TC", "Tabasco", "Villahermosa"),
    ("GR", "Guerrero", "Acapulco"),
]
MEN = [
    "José",
    "Juan",
    "Luis",
    "Carlos",
    "Jorge",
    "Miguel",
    "Pedro",
    "Ricardo",
    "Fernando",
    "Alejandro",
    "Roberto",
    "Eduardo",
]
WOMEN = [
    "María",
    "Guadalupe",
    "Rosa",
    "Ana",
    "Laura",
    "Patricia",
    "Verónica",
    "Leticia",
    "Gabriela",
    "Elena",
    "Sofía",
    "Carmen",
]
SURNAMES = [
    "Hernández",
    "García",
    "Martínez",
    "López",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Gómez",
    "Morales",
    "Vázquez",
    "Reyes",
    "Jiménez",
    "Torres",
    "Díaz",
    "Gutiérrez",
    "Ruiz",
    "Mendoza",
    "Aguilar",
    "Ortiz",
    "Moreno",
    "Castillo",
    "Romero",
    "Álvarez",
    "Méndez",
    "Chávez",
    "Rivera",
    "Juárez",
    "Ramos",
    "Domínguez",
    "Herrera",
]
STREETS = [
    "Fresno",
    "Ciprés",
    "Encino",
    "Olmo",
    "Nogal",
    "Cedro",
    "Sauce",
    "Roble",
    "Pino",
    "Abeto",
    "Laurel",
    "Álamo",
]
VOWELS = set("AEIOU")
# The words a CURP may not start with (python-stdnum keeps RENAPO's list).
INCONVENIENT: frozenset[str] = frozenset(getattr(stdnum_curp, "_name_blacklist", ()))
MORNING = (time(8, 0), time(14, 0))
AFTERNOON = (time(14, 0), time(20, 0))
HOLDERS = 1000
MINUTES = {Service.FAMILY_MEDICINE: 20, Service.DENTISTRY: 30}
CONSULTORIOS = {Service.FAMILY_MEDICINE: 2, Service.DENTISTRY: 1}


@dataclass(frozen=True)
class Seeded:
    umfs: int
    affiliates: int
    slots: int


def _plain(text: str) -> str:
    """Capitals without accents; Ñ becomes X as in a CURP."""
    upper = text.upper().replace("Ñ", "X")
    return "".join(c for c in unicodedata.normalize("NFD", upper) if c.isalpha() and c.isascii())


def _inner(word: str, vowel: bool) -> str:
    for letter in word[1:]:
        if (letter in VOWELS) == vowel:
            return letter
    return "X"


def make_curp(given: str, paternal: str, maternal: str, born: date, sex: str, state: str,
              differentiator: int) -> str:  # fmt: skip
    g, p, m = _plain(given), _plain(paternal), _plain(maternal)
    mark = str(differentiator % 10) if born.year < 2000 else "ABCDEFGHIJ"[differentiator % 10]
    body = (
        f"{p[0]}{_inner(p, True)}{m[0]}{g[0]}{born:%y%m%d}{sex}{state}"
        f"{_inner(p, False)}{_inner(m, False)}{_inner(g, False)}{mark}"
    )
    if body[:4] in INCONVENIENT:  # RENAPO's rule: the vowel becomes X
        body = body[0] + "X" + body[2:]
    return body + stdnum_curp.calc_check_digit(body)


def make_nss(rng: random.Random, born: date, registered: int) -> str:
    subdelegation, sequence = rng.randint(1, 99), rng.randint(0, 9999)
    body = f"{subdelegation:02d}{registered % 100:02d}{born.year % 100:02d}{sequence:04d}"
    return body + luhn.calc_check_digit(body)


def _person(
    rng: random.Random, born: date, sex: str, state: str, taken: set[str]
) -> tuple[str, str]:
    given = rng.choice(MEN if sex == "H" else WOMEN)
    paternal, maternal = rng.choice(SURNAMES), rng.choice(SURNAMES)
    for differentiator in range(10):
        curp = make_curp(given, paternal, maternal, born, sex, state, differentiator)
        if curp not in taken:
            taken.add(curp)
            return f"{given} {paternal} {maternal}", curp
    raise RuntimeError("no free CURP")  # ten people with one name and birthday: never here


def _birthday(rng: random.Random, today: date, low: int, high: int) -> date:
    return today - timedelta(days=rng.randint(low * 365, high * 365))


def _slot_rows(umf_id: int, services: list[str], days: list[date]) -> list[dict[str, Any]]:
    rows = []
    for day in days:
        for service in services:
            step = timedelta(minutes=MINUTES[Service(service)])
            for shift, (start, end) in ((Shift.MORNING, MORNING), (Shift.AFTERNOON, AFTERNOON)):
                moment = datetime.combine(day, start, tzinfo=TZ)
                stop = datetime.combine(day, end, tzinfo=TZ)
                while moment < stop:
                    for consultorio in range(1, CONSULTORIOS[Service(service)] + 1):
                        rows.append(
                            {"umf_id": umf_id, "service": service, "consultorio": consultorio,
                             "shift": shift, "starts_at": moment}
                        )  # fmt: skip
                    moment += step
    return rows


async def seed_demo(session: AsyncSession, seed: int, today: date) -> Seeded:
    """Replace the built-in registry and schedule with the demo data (appointments too)."""
    rng = random.Random(seed)
    for table in (Appointment, Slot, Affiliate, Umf):
        await session.execute(delete(table))
    first, last = window(today)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    workdays = [d for d in days if d.weekday() < 5]
    umf_rows = []
    numbers: set[tuple[str, int]] = set()
    for n, (state, state_name, municipality) in enumerate(STATES, start=1):
        number = rng.randint(1, 99)
        while (state, number) in numbers:
            number = rng.randint(1, 99)
        numbers.add((state, number))
        services = [Service.FAMILY_MEDICINE] + ([Service.DENTISTRY] if rng.random() < 0.8 else [])
        umf_rows.append(
            {
                "id": n,
                "code": f"UMF-{state}-{number:02d}",
                "name": f"UMF No. {number} {municipality} (ficticia)",
                "state": state_name,
                "municipality": municipality,
                "address": f"Calle Ficticia {rng.choice(STREETS)} {rng.randint(1, 999)}, "
                f"{municipality}, {state_name}",
                "services": [str(s) for s in services],
                "_renapo": state,
            }
        )
    await session.execute(
        insert(Umf), [{k: v for k, v in row.items() if k != "_renapo"} for row in umf_rows]
    )
    taken: set[str] = set()
    people: list[dict[str, Any]] = []
    for holder_number in range(HOLDERS):
        umf = umf_rows[holder_number % len(umf_rows)]
        born = _birthday(rng, today, 19, 75)
        sex = rng.choice("HM")
        name, curp = _person(rng, born, sex, umf["_renapo"], taken)
        nss = make_nss(rng, born, rng.randint(born.year + 16, today.year))
        expired = rng.random() < 0.1
        coverage = today + timedelta(
            days=rng.randint(-200, -1) if expired else rng.randint(30, 365)
        )
        shift = rng.choice([Shift.MORNING, Shift.AFTERNOON])
        family = {
            "nss": nss, "umf_id": umf["id"], "consultorio": rng.randint(1, 12), "shift": shift,
            "coverage_until": coverage, "services": umf["services"],
        }  # fmt: skip
        holder_id = len(people) + 1
        people.append({"id": holder_id, "curp": curp, "name": name, "holder_id": None,
                       "relationship": "titular", **family})  # fmt: skip
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            kind = rng.choice(["cónyuge", "hija(o)", "hija(o)", "madre o padre"])
            age = {"cónyuge": (19, 70), "hija(o)": (0, 16), "madre o padre": (45, 90)}[kind]
            born = _birthday(rng, today, *age)
            name, curp = _person(rng, born, rng.choice("HM"), umf["_renapo"], taken)
            people.append({"id": len(people) + 1, "curp": curp, "name": name,
                           "holder_id": holder_id, "relationship": kind, **family})  # fmt: skip
    await session.execute(insert(Affiliate), people)
    slots = 0
    for umf in umf_rows:
        rows = _slot_rows(umf["id"], umf["services"], workdays)
        await session.execute(insert(Slot), rows)
        slots += len(rows)
    await session.commit()
    return Seeded(len(umf_rows), len(people), slots)


async def sample(session: AsyncSession, size: int, today: date) -> list[dict[str, Any]]:
    """`size` demo people with current coverage, holders and beneficiaries, for demos and tools."""
    rows = (
        await session.execute(
            select(Affiliate, Umf)
            .join(Umf, Umf.id == Affiliate.umf_id)
            .where(Affiliate.coverage_until >= today)
            .order_by(Affiliate.id)
            .limit(size)
        )
    ).all()
    return [
        {
            "nss": a.nss,
            "curp": a.curp,
            "name": a.name,
            "relationship": a.relationship,
            "umf": {"code": u.code, "name": u.name, "address": u.address},
            "consultorio": a.consultorio,
            "shift": a.shift,
            "services": a.services,
            "coverage_until": a.coverage_until.isoformat(),
        }
        for a, u in rows
    ]


async def has_demo(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Umf)))


async def needs_seeding(session: AsyncSession, today: date) -> bool:
    """No demo data, or data too old to book from (its last slot less than 3 weeks ahead)."""
    last = await session.scalar(select(func.max(Slot.starts_at)))
    return last is None or last.astimezone(TZ).date() < today + timedelta(days=21)
