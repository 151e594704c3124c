"""Business hours of a campaign: when its agents can be asked for. Always open unless configured.

A spec is a list of clauses separated by ";", each a set of days and one or more time windows:

    mon-fri 08:00-20:00; sat 09:00-14:00
    mon,wed 10:00-12:00
    mon-fri 09:00-13:00, 15:00-19:00
    sun 24h

Days are English three-letter names (mon … sun), alone, in ranges (wrapping ranges like fri-mon
are allowed) or in comma lists; a clause without days applies to every day. A window is
HH:MM-HH:MM, start included and end excluded (08:00-20:00 is open at 08:00, closed at 20:00); it
may end at 24:00 but not cross midnight (write two clauses). "24h", "always" or an empty spec mean
always open. Times are read in the campaign's time zone (America/Mexico_City by default).

Intake (intake.py) asks whether a campaign is open before queueing (specs from the setting
`handoff_hours`), and tells the user the hours when it is not. The moments asked about must be
timezone-aware: a naive one is refused, not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

MEXICO_CITY = ZoneInfo("America/Mexico_City")
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
WHOLE_DAY = (0, 24 * 60)
_ALWAYS = ("", "24h", "always")

# (start, end) in minutes since local midnight, start < end <= 1440
Window = tuple[int, int]

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_CLAUSE = re.compile(r"^(?P<days>[^\d]*?)\s*(?P<windows>\d.*)?$")


def _minutes(text: str, clause: str) -> int:
    match = _TIME.match(text)
    if match is None:
        raise ValueError(f"Bad time {text!r} in {clause!r}: expected HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"Bad time {text!r} in {clause!r}: no such time of day")
    return hours * 60 + minutes


def _parse_window(text: str, clause: str) -> Window:
    if text == "24h":
        return WHOLE_DAY
    start_text, dash, end_text = text.partition("-")
    if not dash:
        raise ValueError(f"Bad window {text!r} in {clause!r}: expected HH:MM-HH:MM or 24h")
    start, end = _minutes(start_text.strip(), clause), _minutes(end_text.strip(), clause)
    if start >= end:
        raise ValueError(
            f"Bad window {text!r} in {clause!r}: it must end after it starts, the same day"
        )
    return (start, end)


def _day(code: str, clause: str) -> int:
    if code not in DAY_CODES:
        raise ValueError(f"Unknown day {code!r} in {clause!r}: use {', '.join(DAY_CODES)}")
    return DAY_CODES.index(code)


def _parse_days(text: str, clause: str) -> list[int]:
    if not text:
        return list(range(7))
    days: list[int] = []
    for item in (i for i in re.split(r"[,\s]+", text) if i):
        first, dash, last = item.partition("-")
        if not dash:
            days.append(_day(first, clause))
            continue
        start, stop = _day(first, clause), _day(last, clause)
        days.extend((start + offset) % 7 for offset in range((stop - start) % 7 + 1))
    return days


def _merge(windows: list[Window]) -> tuple[Window, ...]:
    merged: list[Window] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _spanish_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " y " + items[-1]


def _describe_windows(windows: tuple[Window, ...]) -> str:
    if windows == (WHOLE_DAY,):
        return "las 24 horas"
    return _spanish_list([f"de {_clock(start)} a {_clock(end)}" for start, end in windows])


def _describe_days(days: list[int]) -> str:
    """Spanish names of `days` (sorted), consecutive runs of three or more as "lunes a viernes"."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0]]} a {DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[day] for day in run)
    return _spanish_list(parts)


@dataclass(frozen=True)
class BusinessHours:
    """Open windows for each weekday (Monday first), in local time `tz`."""

    windows: tuple[tuple[Window, ...], ...]
    tz: tzinfo = MEXICO_CITY

    @classmethod
    def always(cls, tz: tzinfo = MEXICO_CITY) -> BusinessHours:
        return cls(tuple((WHOLE_DAY,) for _ in range(7)), tz)

    @classmethod
    def parse(cls, spec: str, *, tz: tzinfo = MEXICO_CITY) -> BusinessHours:
        """Read a spec like "mon-fri 08:00-20:00; sat 09:00-14:00"; ValueError names a bad part."""
        text = re.sub(r"\s*-\s*", "-", " ".join(spec.lower().split()))
        if text.strip("; ") in _ALWAYS:
            return cls.always(tz)
        per_day: list[list[Window]] = [[] for _ in range(7)]
        for clause in (c.strip() for c in text.split(";")):
            if not clause:
                continue
            match = _CLAUSE.match(clause)
            if match is None or match.group("windows") is None:
                raise ValueError(f"Clause {clause!r} has no time window (like 08:00-20:00)")
            days = _parse_days(match.group("days").strip(" ,"), clause)
            items = re.split(r"[,\s]+(?=\d)", match.group("windows"))
            windows = [_parse_window(item.strip(" ,"), clause) for item in items]
            for day in days:
                per_day[day].extend(windows)
        return cls(tuple(_merge(windows) for windows in per_day), tz)

    @property
    def always_open(self) -> bool:
        return all(day == (WHOLE_DAY,) for day in self.windows)

    def is_open(self, at: datetime) -> bool:
        """Whether `at` (tz-aware) falls inside a window, in this schedule's time zone."""
        local = self._local(at)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.windows[local.weekday()])

    def next_opening(self, at: datetime) -> datetime | None:
        """The first moment from `at` on when it is open (`at` itself when open now), in local
        time; None when always open (or never open)."""
        if self.always_open:
            return None
        local = self._local(at)
        if self.is_open(local):
            return local
        for offset in range(8):
            day: date = local.date() + timedelta(days=offset)
            for start, _end in self.windows[day.weekday()]:
                opening = datetime.combine(day, time(start // 60, start % 60), tzinfo=self.tz)
                if opening > local:
                    return opening
        return None

    def describe(self) -> str:
        """In Spanish: "lunes a viernes de 8:00 a 20:00; sábado de 9:00 a 14:00"."""
        if self.always_open:
            return "todos los días, las 24 horas"
        groups: dict[tuple[Window, ...], list[int]] = {}
        for day, windows in enumerate(self.windows):
            if windows:
                groups.setdefault(windows, []).append(day)
        parts = []
        for windows, days in groups.items():
            names = "todos los días" if len(days) == 7 else _describe_days(days)
            parts.append(f"{names} {_describe_windows(windows)}")
        return "; ".join(parts) if parts else "cerrado"

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("Business hours need a time-zone-aware datetime")
        return at.astimezone(self.tz)


def hours_for(campaign: str, config: Mapping[str, str], tz: tzinfo = MEXICO_CITY) -> BusinessHours:
    """The hours of `campaign` from `config` (campaign → spec); always open when not listed."""
    spec = config.get(campaign)
    return BusinessHours.always(tz) if spec is None else BusinessHours.parse(spec, tz=tz)
