"""The day a person asks for, in their words (appointments/dates.py), and whether booking
takes it."""

from __future__ import annotations

from datetime import date

import pytest

from appointments.booking import RuleBroken, check_day
from appointments.dates import parse_day
from appointments.models import Shift

TODAY = date(2026, 12, 3)  # a Thursday
M, T = Shift.MORNING, Shift.AFTERNOON


@pytest.mark.parametrize(
    ("said", "day", "shift"),
    [
        ("mañana", date(2026, 12, 4), None),
        ("Mañana temprano", date(2026, 12, 4), M),
        ("pasado mañana", date(2026, 12, 5), None),
        ("el próximo martes", date(2026, 12, 8), None),
        ("martes en la tarde", date(2026, 12, 8), T),
        ("el jueves", date(2026, 12, 10), None),  # today is Thursday: the next one
        ("el jueves de la próxima semana", date(2026, 12, 10), None),
        ("el lunes de la semana que viene por la mañana", date(2026, 12, 7), M),
        ("el miércoles", date(2026, 12, 9), None),
        ("el 15", date(2026, 12, 15), None),
        ("el día 20 en la mañana", date(2026, 12, 20), M),
        ("el 2", date(2027, 1, 2), None),  # the 2nd already went by this month
        ("15/12", date(2026, 12, 15), None),
        ("el 10 de enero", date(2027, 1, 10), None),
        ("el 3 de diciembre por la tarde", date(2026, 12, 3), T),
        ("en 3 días", date(2026, 12, 6), None),
        ("lo antes posible", None, None),
        ("por la tarde", None, T),
    ],
)
def test_what_people_say(said: str, day: date | None, shift: Shift | None) -> None:
    preferred = parse_day(said, TODAY)
    assert (preferred.day, preferred.shift, preferred.understood) == (day, shift, True)


@pytest.mark.parametrize("said", ["qwerty", "el 30 de febrero", "cuando tú digas jaja"])
def test_what_is_no_day_is_said_so(said: str) -> None:
    assert parse_day(said, TODAY).understood is False


@pytest.mark.parametrize(
    ("said", "bookable"),
    [
        ("hoy", False),
        ("el 3 de diciembre", False),
        ("mañana", True),
        ("el 31", True),  # 28 days ahead
        ("el 1 de enero", False),  # 29 days ahead
        ("el 10 de enero", False),
    ],
)
def test_the_window_is_from_tomorrow_to_28_days(said: str, bookable: bool) -> None:
    day = parse_day(said, TODAY).day
    assert day is not None
    if bookable:
        check_day(day, TODAY)
    else:
        with pytest.raises(RuleBroken) as refused:
            check_day(day, TODAY)
        assert refused.value.code == "date_out_of_range"
        assert "4 de diciembre de 2026" in refused.value.message
