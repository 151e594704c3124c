"""The day a person asks for, in their words: «mañana», «el próximo martes», «el 3 de diciembre por
la tarde», «el 15», «15/12», «en 3 días». What Mexican Spanish says most is read here (weekdays,
day of the month, month names, the part of the day); `dateparser` reads the rest of the
numeric and relative forms. Whether the day falls in the booking window is `booking.check_day`'s.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import dateparser

from appointments.models import Shift

WEEKDAYS = {"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5,
            "domingo": 6}  # fmt: skip
MONTHS = {
    name: n
    for n, name in enumerate(
        ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
         "septiembre", "octubre", "noviembre", "diciembre"],
        start=1,
    )
}  # fmt: skip
MONTHS["setiembre"] = 9
MORNING = re.compile(
    r"\b(en|por|de) la manana\b|\btemprano\b|\bmatutino\b|\bantes de (las )?(12|doce)\b"
)
AFTERNOON = re.compile(r"\b(en|por|de) la tarde\b|\bvespertino\b|\bdespues de (las )?(2|dos|14)\b")
NEXT = re.compile(r"\b(proximo|proxima|que viene|siguiente)\b")


@dataclass(frozen=True)
class Preferred:
    day: date | None  # None: any day (the nearest)
    shift: Shift | None  # the part of the day they said, if any
    understood: bool  # False: nothing in it looked like a day


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _part_of_day(text: str) -> Shift | None:
    if AFTERNOON.search(text):
        return Shift.AFTERNOON
    if MORNING.search(text):
        return Shift.MORNING
    return None


def _day_of_month(day: int, month: int | None, today: date) -> date | None:
    """That day of `month` (or of this month, else the next), the next time it comes."""
    if month is None:
        following = (today.year + today.month // 12, today.month % 12 + 1)
        options = [(today.year, today.month), following]
    else:
        options = [(today.year, month), (today.year + 1, month)]
    for year, m in options:
        try:
            candidate = date(year, m, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def parse_day(text: str, today: date) -> Preferred:
    """The day and part of the day in a person's words, relative to `today` (Mexico City)."""
    said = _plain(text)
    shift = _part_of_day(said)
    if re.search(r"\b(cualquier|lo antes posible|lo mas pronto|cuando sea|el que sea)\b", said):
        return Preferred(None, shift, True)
    if "pasado manana" in said:
        return Preferred(today + timedelta(days=2), shift, True)
    without_part = MORNING.sub(" ", said)
    if re.search(r"\bmanana\b", without_part):
        return Preferred(today + timedelta(days=1), shift, True)
    if re.search(r"\bhoy\b", said):
        return Preferred(today, shift, True)
    explicit = re.search(r"\b(\d{1,2})\s+de\s+([a-z]+)\b", said)
    if explicit and explicit[2] in MONTHS:
        found = _day_of_month(int(explicit[1]), MONTHS[explicit[2]], today)
        return Preferred(found, shift, found is not None)
    for name, number in WEEKDAYS.items():
        if re.search(rf"\b{name}\b", said):
            if NEXT.search(said) and re.search(r"\bsemana\b", said):
                # «el martes de la próxima semana»: that day of next week (weeks start Monday)
                monday = today + timedelta(days=7 - today.weekday())
                return Preferred(monday + timedelta(days=number), shift, True)
            ahead = (number - today.weekday()) % 7 or 7  # the next one to come, never today
            return Preferred(today + timedelta(days=ahead), shift, True)
    alone = re.fullmatch(
        r"(el )?(dia )?(\d{1,2})", MORNING.sub("", AFTERNOON.sub("", said)).strip()
    )
    if alone:
        found = _day_of_month(int(alone[3]), None, today)
        return Preferred(found, shift, found is not None)
    parsed = dateparser.parse(
        said,
        languages=["es"],
        settings={
            "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
        },
    )
    if parsed is not None:
        return Preferred(parsed.date(), shift, True)
    return Preferred(None, shift, shift is not None)
