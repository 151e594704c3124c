"""Supervisors' API: live dashboard, unattended emergencies, transcript search and export, the
monthly report, callbacks.

Mounted by the app factory (ventanilla/app.py); the dashboard and report pages (static/) call it.
Every figure comes from `handoff_events` through the pure functions of `handoff/metrics.py`.
Exports and transcript views are written to the audit log.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import conversations as store
from core.accounts.access import StaffUser, SupervisorUser, scope
from core.accounts.service import record
from core.campaigns import CAMPAIGNS
from core.db import utcnow
from core.errors import ApiError, error_responses
from core.privacy import mask_text, sender_for_staff
from core.protocol import EmergencyKind
from core.web.deps import SessionDep
from core.web.exports import csv_text, day_end, day_start, download, parse_day
from handoff import emergencies, metrics
from handoff.models import (
    Callback,
    CallbackStatus,
    EventKind,
    Handoff,
    HandoffEvent,
    HandoffStatus,
)
from handoff.queries import seconds_between

router = APIRouter(prefix="/api/handoff", tags=["supervision"], responses=error_responses(401, 403))

LIVE_WINDOW = timedelta(days=2)  # open handoffs older than this have expired long ago
MAX_RESULTS = 500


def _figures(f: metrics.CampaignFigures, threshold: int) -> dict[str, Any]:
    name = "Total" if f.campaign == metrics.ALL else CAMPAIGNS.get(f.campaign, f.campaign)
    return {**asdict(f), "name": name, "threshold_seconds": threshold}


async def _events(session: AsyncSession, since: datetime, until: datetime) -> list[HandoffEvent]:
    """Events in [since, until], plus every agent's latest presence (it may be older)."""
    latest_status = (
        select(func.max(HandoffEvent.id))
        .where(HandoffEvent.kind == EventKind.AGENT_STATUS)
        .group_by(HandoffEvent.agent)
    )
    result = await session.execute(
        select(HandoffEvent)
        .where(
            or_(
                (HandoffEvent.created_at >= since) & (HandoffEvent.created_at <= until),
                HandoffEvent.id.in_(latest_status),
            )
        )
        .order_by(HandoffEvent.id)
    )
    return list(result.scalars())


def _in_scope(events: list[HandoffEvent], campaigns: list[str]) -> list[HandoffEvent]:
    """Events of the campaigns in scope; conversation and presence events are kept."""
    allowed = set(campaigns)
    return [e for e in events if e.campaign is None or e.campaign in allowed]


def _channel_names(request: Request) -> dict[str, str]:
    """Channel code → the name people know it by ("WhatsApp", "Chat web", …)."""
    return {code: channel.label for code, channel in request.app.state.channels.items()}


@router.get("/dashboard", summary="Live figures per campaign, today's by channel and by hour")
async def dashboard(request: Request, user: SupervisorUser, session: SessionDep) -> dict[str, Any]:
    settings = request.app.state.settings
    tz = ZoneInfo(settings.timezone)
    now = utcnow()
    today = now.astimezone(tz).date()
    since = datetime.combine(today, time(), tzinfo=tz).astimezone(UTC)
    allowed = scope(user)
    events = _in_scope(await _events(session, min(since, now - LIVE_WINDOW), now), allowed)
    thresholds = settings.handoff_service_level_seconds
    default = settings.handoff_default_service_level_seconds
    figures = metrics.campaign_figures(events, now, since, thresholds, default)
    labels = _channel_names(request)
    total = figures.pop(metrics.ALL)
    campaigns = [
        _figures(f, thresholds.get(code, default)) for code, f in figures.items() if code in allowed
    ]
    return {
        "generated_at": now.isoformat(),
        "since": since.isoformat(),
        "timezone": settings.timezone,
        "total": _figures(total, default),
        "campaigns": campaigns,
        "channels": [
            {**asdict(f), "name": labels.get(f.channel, f.channel)}
            for f in metrics.channel_figures(events, now, since, thresholds, default)
        ],
        "containment": asdict(metrics.containment(events, since, now + timedelta(seconds=1))),
        "hourly": [
            {k: v for k, v in asdict(b).items() if k != "start"}
            for b in metrics.hourly(events, today, tz)
        ],
    }


class UnattendedEmergency(BaseModel):
    id: int = Field(description="The handoff's id")
    campaign: str
    campaign_name: str
    kind: EmergencyKind | None = Field(description="None when nothing says which emergency")
    reason: str = Field(description="The emergency, in Spanish")
    status: HandoffStatus = Field(
        description="waiting, offered to an agent not yet accepted, or (for a day) abandoned or "
        "expired without anyone attending"
    )
    offered_to: str | None
    waiting_seconds: float = Field(description="Since the handoff was requested")
    created_at: datetime
    channel: str
    sender: str = Field(description="Masked")


@router.get(
    "/emergencies",
    response_model=list[UnattendedEmergency],
    summary="Open urgent handoffs of my campaigns no agent has taken yet, longest waiting first",
)
async def unattended_emergencies(
    user: SupervisorUser, session: SessionDep
) -> list[UnattendedEmergency]:
    now = utcnow()
    return [
        UnattendedEmergency(
            id=handoff.id,
            campaign=handoff.campaign,
            campaign_name=CAMPAIGNS.get(handoff.campaign, handoff.campaign),
            kind=emergencies.kind_of(handoff),
            reason=emergencies.label(handoff) or emergencies.UNKNOWN,
            status=handoff.status,
            offered_to=handoff.offered_to,
            waiting_seconds=round(seconds_between(handoff.created_at, handoff.closed_at or now), 1),
            created_at=handoff.created_at,
            channel=conversation.channel,
            sender=sender_for_staff(conversation.channel, conversation.sender),
        )
        for handoff, conversation in await emergencies.unattended(session, user)
    ]


@router.get(
    "/transcripts",
    summary="Search handed-off conversations; format=csv|json exports them (audited)",
)
async def transcripts(
    request: Request,
    user: SupervisorUser,
    session: SessionDep,
    campaign: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    channel: str | None = None,
    disposition: str | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in any message")] = None,
    format: Literal["list", "csv", "json"] = "list",
) -> Any:
    tz = ZoneInfo(request.app.state.settings.timezone)
    allowed = scope(user)
    if campaign and campaign not in allowed:
        raise ApiError(403, "forbidden", "Esa campaña no está en tu alcance.")
    query = (
        select(Handoff, store.Conversation)
        .join(store.Conversation, store.Conversation.id == Handoff.conversation_id)
        .where(Handoff.campaign.in_([campaign] if campaign else allowed))
        .order_by(Handoff.id.desc())
        .limit(MAX_RESULTS)
    )
    start, end = parse_day(date_from, "desde"), parse_day(date_to, "hasta")
    if start:
        query = query.where(Handoff.created_at >= day_start(start, tz))
    if end:
        query = query.where(Handoff.created_at < day_end(end, tz))
    if channel:
        query = query.where(store.Conversation.channel == channel)
    if disposition:
        query = query.where(Handoff.disposition == disposition)
    if q:
        matching = select(store.Message.conversation_id).where(
            func.lower(cast(store.Message.text, String)).contains(q.lower())
        )
        query = query.where(Handoff.conversation_id.in_(matching))
    rows = (await session.execute(query)).all()

    results = []
    for handoff, conversation in rows:
        results.append(
            {
                "id": handoff.id,
                "campaign": handoff.campaign,
                "channel": conversation.channel,
                "sender": sender_for_staff(conversation.channel, conversation.sender),
                "status": handoff.status,
                "disposition": handoff.disposition,
                "agent": handoff.agent,
                "created_at": _iso(handoff.created_at),
                "closed_at": _iso(handoff.closed_at),
                "csat": handoff.csat,
                "snippet": mask_text(handoff.summary)[:200],
            }
        )
    filters = {
        "campaign": campaign,
        "date_from": date_from,
        "date_to": date_to,
        "channel": channel,
        "disposition": disposition,
        "q": q,
    }
    if format == "list":
        return {"total": len(results), "results": results}

    record(
        session,
        "transcript_export",
        actor=user.username,
        target=f"{len(results)} conversaciones",
        format=format,
        filters=filters,
    )
    await session.commit()
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    if format == "csv":
        return download(
            csv_text(TRANSCRIPT_COLUMNS, results), f"transcripciones-{stamp}.csv", "text/csv"
        )
    for item in results:
        conversation_id = next(h.conversation_id for h, _ in rows if h.id == item["id"])
        messages = await session.execute(
            select(store.Message)
            .where(store.Message.conversation_id == conversation_id)
            .order_by(store.Message.id)
        )
        item["messages"] = [
            {"author": m.author, "text": mask_text(m.text), "ts": _iso(m.created_at)}
            for m in messages.scalars()
        ]
    body = json.dumps({"filters": filters, "results": results}, ensure_ascii=False, indent=1)
    return download(body, f"transcripciones-{stamp}.json", "application/json")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


TRANSCRIPT_COLUMNS = {
    "id": "id",
    "campaign": "campaña",
    "channel": "canal",
    "sender": "remitente",
    "status": "estado",
    "disposition": "cierre",
    "agent": "agente",
    "created_at": "inicio",
    "closed_at": "fin",
    "csat": "csat",
    "snippet": "resumen",
}


@router.get(
    "/reports/monthly",
    summary="Monthly report per campaign (the basis of monthly billing) and per channel; "
    "format=csv, by=campaign|channel",
)
async def monthly(
    request: Request,
    user: SupervisorUser,
    session: SessionDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    format: Literal["json", "csv"] = "json",
    by: Literal["campaign", "channel"] = "campaign",
) -> Any:
    settings = request.app.state.settings
    tz = ZoneInfo(settings.timezone)
    month = month or utcnow().astimezone(tz).strftime("%Y-%m")
    try:
        start, end = metrics.month_bounds(month, tz)
    except ValueError as exc:
        raise ApiError(400, "invalid_month", "El mes debe ser AAAA-MM.") from exc
    allowed = scope(user)
    events = _in_scope(await _events(session, start, end), allowed)
    thresholds = settings.handoff_service_level_seconds
    default = settings.handoff_default_service_level_seconds
    rows = metrics.monthly_report(events, month, tz, thresholds, default)
    by_channel = metrics.monthly_by_channel(events, month, tz, thresholds, default)
    if format == "csv":
        target = f"mensual {month}" + (" por canal" if by == "channel" else "")
        record(session, "report_export", actor=user.username, target=target)
        await session.commit()
        if by == "channel":
            text = metrics.monthly_csv(by_channel, first_column="canal")
            return download(text, f"reporte-{month}-canales.csv", "text/csv")
        return download(metrics.monthly_csv(rows), f"reporte-{month}.csv", "text/csv")
    labels = _channel_names(request)
    return {
        "month": month,
        "timezone": settings.timezone,
        "channels": [
            {
                **{k: v for k, v in asdict(row).items() if k != "campaign"},
                "channel": row.campaign,
                "name": labels.get(row.campaign, row.campaign),
            }
            for row in by_channel
        ],
        "rows": [
            {
                **asdict(row),
                "name": "Total"
                if row.campaign == metrics.ALL
                else CAMPAIGNS.get(row.campaign, row.campaign),
            }
            for row in rows
        ],
    }


@router.get(
    "/callbacks", summary="Pending callback requests of my campaigns (phone numbers: audited)"
)
async def callbacks(user: StaffUser, session: SessionDep) -> list[dict[str, Any]]:
    result = await session.execute(
        select(Callback)
        .where(Callback.campaign.in_(scope(user)), Callback.status == CallbackStatus.PENDING)
        .order_by(Callback.id)
    )
    rows = list(result.scalars())
    record(session, "callbacks_view", actor=user.username, target=f"{len(rows)} llamadas")
    await session.commit()
    return [
        {
            "id": c.id,
            "campaign": c.campaign,
            "phone": c.phone,
            "preferred_time": c.preferred_time,
            "created_at": _iso(c.created_at),
        }
        for c in rows
    ]
