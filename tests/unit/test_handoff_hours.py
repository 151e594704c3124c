from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handoff.hours import BusinessHours, hours_for

MX = ZoneInfo("America/Mexico_City")  # UTC-6 all year: no daylight saving time since 2022
OFFICE = "mon-fri 08:00-20:00; sat 09:00-14:00"


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """2026-11-23 is a Monday, 2026-11-28 a Saturday, 2026-11-29 a Sunday."""
    return datetime(2026, month, day, hour, minute, tzinfo=MX)


def test_window_includes_its_start_and_excludes_its_end() -> None:
    hours = BusinessHours.parse(OFFICE)
    assert hours.is_open(local(23, 8, 0))
    assert not hours.is_open(local(23, 7, 59))
    assert hours.is_open(datetime(2026, 11, 23, 19, 59, 59, tzinfo=MX))
    assert not hours.is_open(local(23, 20, 0))
    assert hours.is_open(local(28, 13, 59))  # Saturday
    assert not hours.is_open(local(28, 14, 0))
    assert not hours.is_open(local(29, 12, 0))  # Sunday closed


def test_utc_moments_are_read_in_mexico_city_time_all_year() -> None:
    hours = BusinessHours.parse(OFFICE)
    # 14:00 UTC = 08:00 in Mexico City (UTC-6), in November and in July alike (no DST)
    assert hours.is_open(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    assert hours.is_open(datetime(2026, 7, 6, 14, 0, tzinfo=UTC))  # Monday
    assert not hours.is_open(datetime(2026, 7, 6, 13, 59, tzinfo=UTC))
    # Friday 01:30 UTC is still Thursday 19:30 local: open
    assert hours.is_open(datetime(2026, 11, 27, 1, 30, tzinfo=UTC))
    assert BusinessHours.parse(OFFICE, tz=ZoneInfo("UTC")).is_open(
        datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    )


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="time-zone-aware"):
        BusinessHours.parse(OFFICE).is_open(datetime(2026, 11, 23, 9, 0))


def test_describe_in_spanish() -> None:
    assert (
        BusinessHours.parse(OFFICE).describe()
        == "lunes a viernes de 8:00 a 20:00; sábado de 9:00 a 14:00"
    )
    assert (
        BusinessHours.parse("mon,wed 10:00-12:00, 16:00-18:00").describe()
        == "lunes y miércoles de 10:00 a 12:00 y de 16:00 a 18:00"
    )
    assert BusinessHours.parse("09:00-21:00").describe() == "todos los días de 9:00 a 21:00"
    assert (
        BusinessHours.parse("mon-fri 08:00-20:00; sat,sun 24h").describe()
        == "lunes a viernes de 8:00 a 20:00; sábado y domingo las 24 horas"
    )


def test_lists_several_windows_and_wrapping_ranges() -> None:
    split = BusinessHours.parse("mon, wed 10:00-12:00, 16:00-18:00")
    assert split.is_open(local(25, 17))  # Wednesday afternoon
    assert not split.is_open(local(25, 13))  # Wednesday lunch
    assert not split.is_open(local(24, 11))  # Tuesday
    weekend = BusinessHours.parse("fri-mon 10:00 - 11:00")  # fri, sat, sun, mon
    assert weekend.is_open(local(29, 10, 30))  # Sunday
    assert weekend.is_open(local(23, 10, 30))  # Monday
    assert not weekend.is_open(local(24, 10, 30))  # Tuesday


@pytest.mark.parametrize("spec", ["", "  ", "24h", "always", " ALWAYS ", "mon-sun 00:00-24:00"])
def test_always_open(spec: str) -> None:
    hours = BusinessHours.parse(spec)
    assert hours.always_open
    assert hours.is_open(local(29, 3))
    assert hours.describe() == "todos los días, las 24 horas"
    assert hours.next_opening(local(29, 3)) is None


def test_next_opening() -> None:
    hours = BusinessHours.parse(OFFICE)
    assert hours.next_opening(local(27, 20)) == local(28, 9)  # Friday closing → Saturday 9:00
    assert hours.next_opening(local(28, 15)) == local(30, 8)  # Saturday afternoon → Monday 8:00
    assert hours.next_opening(local(29, 12)) == local(30, 8)  # Sunday → Monday
    assert hours.next_opening(local(23, 6)) == local(23, 8)  # Monday early → same morning
    assert hours.next_opening(local(23, 9)) == local(23, 9)  # open now: now
    # 02:00 UTC Saturday = Friday 20:00 local: closed, opens Saturday 9:00 local
    assert hours.next_opening(datetime(2026, 11, 28, 2, 0, tzinfo=UTC)) == local(28, 9)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mon-fry 08:00-20:00", "Unknown day 'fry'"),
        ("lunes 08:00-20:00", "Unknown day 'lunes'"),
        ("mon-fri 20:00-08:00", "'20:00-08:00'.*end after it starts"),
        ("mon-fri", "'mon-fri' has no time window"),
        ("mon-fri 8-20", "Bad time '8'"),
        ("sat 09:00-25:00", "Bad time '25:00'"),
        ("sat 09:00", "Bad window '09:00'"),
        ("mon-fri 08:00-20:00; sun 9:60-10:00", "Bad time '9:60' in 'sun 9:60-10:00'"),
    ],
)
def test_invalid_specs_name_the_bad_part(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessHours.parse(spec)


def test_hours_for_a_campaign() -> None:
    config = {"contribuyente": "mon-fri 08:00-20:00"}
    assert not hours_for("contribuyente", config, MX).is_open(local(29, 12))  # Sunday
    assert hours_for("salud_mental", config, MX).always_open  # not configured
    assert hours_for("contribuyente", config, MX) == BusinessHours.parse(config["contribuyente"])
