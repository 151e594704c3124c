"""What staff listings and downloads share: day filters, CSV a spreadsheet cannot be tricked by,
attachment responses.

Used by the handoff's transcript search and export (handoff/supervision.py) and the triage
assessments (triage/router.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import Response

from core.errors import ApiError

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP "CSV injection"); tab and carriage return hide such a start from a quick look.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def parse_day(value: str | None, name: str) -> date | None:
    """A `YYYY-MM-DD` filter, None when empty; a 400 naming the filter (in Spanish) otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(400, "invalid_date", f"La fecha «{name}» debe ser AAAA-MM-DD.") from exc


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a local day starts."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def day_end(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant the local day after `day` starts (an exclusive upper bound)."""
    return day_start(day + timedelta(days=1), tz)


def safe_cell(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, quoted with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(headers: Mapping[str, str], rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV with a header row (`headers`: field → column title); every text cell made safe."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(headers), extrasaction="ignore")
    writer.writerow(dict(headers))
    for row in rows:
        writer.writerow({field: safe_cell(row.get(field)) for field in headers})
    return out.getvalue()


def download(body: str, filename: str, media_type: str) -> Response:
    return Response(
        content=body.encode("utf-8"),
        media_type=f"{media_type}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
