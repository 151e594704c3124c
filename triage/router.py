"""Staff's API over the stored triage assessments: `/api/triage/assessments` (list) and
`/api/triage/assessments.csv` (export).

For the staff of the COVID-19 campaign (`omt_covid`: its agents, supervisors whose scope holds it,
admins); anyone else gets a 403. Scopes and roles are core's (core/accounts/access.py), as for the
handoff's transcripts; so is the masking (core/privacy.py): the conversation's sender is masked,
and any text inside the answers too (answers are codes and numbers, but a stored one is never
trusted to be). Every listing and every export is written to the audit log with its filters.
Mounted by the app factory (ventanilla/app.py); the page /evaluaciones (pages.py) calls it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import conversations as store
from core.accounts.access import StaffUser, can_see
from core.accounts.models import User
from core.accounts.service import record
from core.db import utcnow
from core.errors import ApiError, error_responses
from core.privacy import mask_values, sender_for_staff
from core.web.deps import SessionDep, SettingsDep
from core.web.exports import csv_text, day_end, day_start, download, parse_day
from triage.engine import Level
from triage.models import Assessment

router = APIRouter(prefix="/api/triage", tags=["triage"], responses=error_responses(401, 403))

CAMPAIGN = "omt_covid"  # whose staff follow up the assessments (DOMAIN.md: amarillo → omt_covid)
MAX_RESULTS = 5000
LIST_DEFAULT = 100


def covid_staff(user: StaffUser) -> User:
    if not can_see(user, CAMPAIGN):
        raise ApiError(
            403,
            "forbidden",
            "Las evaluaciones COVID-19 son para el personal de Orientación Médica Telefónica "
            "COVID-19.",
        )
    return user


CovidStaff = Annotated[User, Depends(covid_staff)]


class AssessmentOut(BaseModel):
    id: int
    created_at: datetime
    level: Level
    disposition: str
    rules: list[str] = Field(description="Every rule of the protocol that fired")
    protocol_version: str
    channel: str
    conversation_id: int | None
    sender: str | None = Field(description="The conversation's sender, masked")
    answers: dict[str, Any] = Field(description="As stored, any text in them masked")


class AssessmentList(BaseModel):
    total: int
    results: list[AssessmentOut]


class Filters(BaseModel):
    level: Level | None = None
    date_from: str | None = None
    date_to: str | None = None
    limit: int | None = None  # the list's default: LIST_DEFAULT; the export's: MAX_RESULTS


def filters(
    level: Annotated[Level | None, Query(description="verde, amarillo or rojo")] = None,
    date_from: Annotated[str | None, Query(description="From this local day (YYYY-MM-DD)")] = None,
    date_to: Annotated[str | None, Query(description="To this local day, included")] = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_RESULTS)] = None,
) -> Filters:
    return Filters(level=level, date_from=date_from, date_to=date_to, limit=limit)


FiltersDep = Annotated[Filters, Depends(filters)]


async def _assessments(
    session: AsyncSession, tz: ZoneInfo, wanted: Filters, default_limit: int
) -> list[AssessmentOut]:
    query = (
        select(Assessment, store.Conversation)
        .outerjoin(store.Conversation, store.Conversation.id == Assessment.conversation_id)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(wanted.limit or default_limit)
    )
    if wanted.level:
        query = query.where(Assessment.level == wanted.level)
    start, end = parse_day(wanted.date_from, "desde"), parse_day(wanted.date_to, "hasta")
    if start:
        query = query.where(Assessment.created_at >= day_start(start, tz))
    if end:
        query = query.where(Assessment.created_at < day_end(end, tz))
    return [
        AssessmentOut(
            id=a.id,
            created_at=a.created_at,
            level=Level(a.level),
            disposition=a.disposition,
            rules=list(a.rules),
            protocol_version=a.protocol_version,
            channel=a.channel,
            conversation_id=a.conversation_id,
            sender=(
                sender_for_staff(conversation.channel, conversation.sender)
                if conversation is not None
                else None
            ),
            answers=mask_values(a.answers),
        )
        for a, conversation in (await session.execute(query)).all()
    ]


def _audit(
    session: AsyncSession, user: User, action: str, wanted: Filters, found: int, **extra: Any
) -> None:
    record(
        session,
        action,
        actor=user.username,
        target=f"{found} evaluaciones",
        campaign=CAMPAIGN,
        filters=wanted.model_dump(mode="json"),
        **extra,
    )


@router.get(
    "/assessments",
    response_model=AssessmentList,
    summary="Stored COVID-19 triage assessments, newest first (masked; the listing is audited)",
    responses={403: {"description": "Not staff of the omt_covid campaign"}},
)
async def assessments(
    user: CovidStaff, session: SessionDep, settings: SettingsDep, wanted: FiltersDep
) -> AssessmentList:
    results = await _assessments(session, ZoneInfo(settings.timezone), wanted, LIST_DEFAULT)
    _audit(session, user, "triage_assessments_view", wanted, len(results))
    await session.commit()
    return AssessmentList(total=len(results), results=results)


# field → column title; answers are flattened into their own columns
CSV_COLUMNS = {
    "id": "id",
    "created_at": "fecha",
    "level": "nivel",
    "disposition": "disposición",
    "rules": "reglas",
    "protocol_version": "versión del protocolo",
    "channel": "canal",
    "sender": "remitente",
    "age": "edad",
    "emergency_signs": "signos de alarma",
    "symptoms": "síntomas",
    "symptom_days": "días con síntomas",
    "risk_factors": "factores de riesgo",
    "exposure": "contacto con un caso",
}


def _csv_row(item: AssessmentOut) -> dict[str, Any]:
    def cell(value: Any) -> Any:
        return "; ".join(str(v) for v in value) if isinstance(value, list) else value

    return {
        **{key: cell(value) for key, value in item.answers.items()},
        "id": item.id,
        "created_at": item.created_at.isoformat(),
        "level": item.level,
        "disposition": item.disposition,
        "rules": cell(item.rules),
        "protocol_version": item.protocol_version,
        "channel": item.channel,
        "sender": item.sender,
    }


@router.get(
    "/assessments.csv",
    summary="The same assessments as CSV (masked, safe to open in a spreadsheet; audited)",
    responses={403: {"description": "Not staff of the omt_covid campaign"}},
)
async def assessments_csv(
    user: CovidStaff, session: SessionDep, settings: SettingsDep, wanted: FiltersDep
) -> Any:
    results = await _assessments(session, ZoneInfo(settings.timezone), wanted, MAX_RESULTS)
    _audit(session, user, "triage_assessments_export", wanted, len(results), format="csv")
    await session.commit()
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    body = csv_text(CSV_COLUMNS, (_csv_row(item) for item in results))
    return download(body, f"evaluaciones-covid-{stamp}.csv", "text/csv")
