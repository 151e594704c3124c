"""The agents' API `/api/handoff/...`: queues, claiming, replying, notes, transfer, closing, live
events. Mounted by the app factory (ventanilla/app.py); the consoles' pages (static/) call it.

Roles and campaign scopes are core's (core/accounts/access.py: an agent sees only their
campaigns; a supervisor the campaigns in their scope, all when none is set; an admin everything;
an editor nothing). A conversation outside one's scope is a 404, so its existence is not
revealed. Changes go to the desk (desk.py) and presence (presence.py) of `app.state.handoff`;
lists come from queries.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from core import conversations as store
from core.accounts import service
from core.accounts.access import AgentUser, StaffUser, can_see
from core.accounts.models import AuditEvent, User
from core.accounts.router import presented_token
from core.accounts.service import record
from core.campaigns import CAMPAIGNS
from core.db import RowId, utcnow
from core.errors import error_responses
from core.privacy import mask_text, mask_values, sender_for_staff
from core.protocol import Priority
from core.web.deps import SessionDep, SessionsDep
from handoff import canned, emergencies, queries
from handoff.access import visible
from handoff.desk import DISPOSITIONS, Desk
from handoff.models import AgentStatus, Handoff, HandoffNote, HandoffStatus
from handoff.presence import Presence
from handoff.service import HandoffService

router = APIRouter(
    prefix="/api/handoff", tags=["handoff"], responses=error_responses(401, 403, 404)
)

KEEPALIVE_SECONDS = 15.0
ACCOUNT_CHECK_SECONDS = 30.0  # how often an open event stream checks its reader's account


def _may_read(user: User, data: dict[str, Any]) -> bool:
    """A console event is for staff who see its campaign (or, after a transfer, the previous
    one). Presence events name the agent's campaigns: those who see one of them."""
    campaigns = [data.get("campaign"), data.get("previous_campaign"), *data.get("campaigns", [])]
    named = [c for c in campaigns if c is not None]
    return not named or any(can_see(user, c) for c in named)


def get_service(conn: HTTPConnection) -> HandoffService:
    return conn.app.state.handoff


def get_desk(conn: HTTPConnection) -> Desk:
    return get_service(conn).desk


def get_presence(conn: HTTPConnection) -> Presence:
    return get_service(conn).presence


DeskDep = Annotated[Desk, Depends(get_desk)]
PresenceDep = Annotated[Presence, Depends(get_presence)]


def show_sender(user: User, conversation: store.Conversation, reveal: bool = False) -> str:
    return sender_for_staff(
        conversation.channel, conversation.sender, reveal or user.role == "admin"
    )


# ---------------------------------------------------------------- shapes


class QueueEntry(BaseModel):
    id: int = Field(description="The handoff's id (the path parameter of the other endpoints)")
    campaign: str
    priority: Priority
    status: HandoffStatus
    waiting_seconds: float = Field(description="Since the handoff was requested")
    sender: str = Field(description="Masked unless the role may see it")
    channel: str
    position: int | None = None
    offered_to: str | None = None
    agent: str | None = None
    reason: str
    emergency: str | None = Field(
        default=None, description="The emergency it answers, in Spanish (urgent handoffs only)"
    )
    summary: str


class MessageOut(BaseModel):
    id: int
    author: store.Author
    text: str
    buttons: list[dict[str, str]] = []
    ts: datetime


class NoteOut(BaseModel):
    id: int
    author: str
    text: str
    ts: datetime


class ChannelLimits(BaseModel):
    """What an agent must know before writing on the conversation's channel."""

    name: str = Field(description="The channel as people know it: WhatsApp, SMS, …")
    max_text_chars: int | None = Field(
        description="Characters of one message; a longer reply arrives in several"
    )
    sms: bool = Field(description="Charged per SMS: 160 characters, 70 with á, í, ó, ú and others")
    window_hours: float | None = Field(
        description="The customer-service window after the person's last message (WhatsApp, "
        "Messenger); None: no window"
    )
    window_closes_at: datetime | None = Field(
        description="When the window closes (closed if past; None with a window: never opened)"
    )
    template: bool = Field(
        description="Outside the window a reply goes as the approved template (else it fails)"
    )


class ConversationOut(QueueEntry):
    limits: ChannelLimits | None = Field(
        default=None, description="The channel's limits (None: a channel this gateway lacks)"
    )
    disposition: str | None = None
    csat: int | None = None
    context: dict[str, Any]
    created_at: datetime
    assigned_at: datetime | None
    closed_at: datetime | None
    messages: list[MessageOut]
    notes: list[NoteOut]
    revealed: bool


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class CloseIn(BaseModel):
    disposition: str = Field(description="One of GET /api/handoff/dispositions")


class TransferIn(BaseModel):
    campaign: str


class StatusIn(BaseModel):
    status: Literal["available", "away"]


def entry(
    user: User, handoff: Handoff, conversation: store.Conversation, position: int | None = None
) -> QueueEntry:
    end = handoff.assigned_at or handoff.closed_at or utcnow()
    return QueueEntry(
        id=handoff.id,
        campaign=handoff.campaign,
        priority=handoff.priority,
        status=handoff.status,
        waiting_seconds=round(queries.seconds_between(handoff.created_at, end), 1),
        sender=show_sender(user, conversation),
        channel=conversation.channel,
        position=position,
        offered_to=handoff.offered_to,
        agent=handoff.agent,
        reason=handoff.reason,
        emergency=emergencies.label(handoff),
        summary=mask_text(handoff.summary),
    )


async def entry_for(session: AsyncSession, user: User, handoff: Handoff) -> QueueEntry:
    conversation = await session.get(store.Conversation, handoff.conversation_id)
    assert conversation is not None
    return entry(user, handoff, conversation)


def message_out(message: store.Message, reveal: bool) -> MessageOut:
    return MessageOut(
        id=message.id,
        author=message.author,
        text=message.text if reveal else mask_text(message.text),
        buttons=list(message.buttons or []),
        ts=message.created_at,
    )


def note_out(note: HandoffNote) -> NoteOut:
    return NoteOut(id=note.id, author=note.author, text=note.text, ts=note.created_at)


VIEW_AUDIT_EVERY = timedelta(minutes=30)


async def recently_viewed(session: AsyncSession, username: str, target: str) -> bool:
    since = utcnow() - VIEW_AUDIT_EVERY
    found = await session.execute(
        select(AuditEvent.id)
        .where(
            AuditEvent.actor == username,
            AuditEvent.action == "transcript_view",
            AuditEvent.target == target,
            AuditEvent.created_at >= since,
        )
        .limit(1)
    )
    return found.scalar_one_or_none() is not None


# ---------------------------------------------------------------- queue


@router.get(
    "/queue", response_model=list[QueueEntry], summary="Waiting conversations of my campaigns"
)
async def queue(user: StaffUser, session: SessionDep) -> list[QueueEntry]:
    rows = await queries.queue(session, user)
    return [entry(user, h, c, position) for h, c, position in rows]


@router.get("/mine", response_model=list[QueueEntry], summary="My open conversations and offers")
async def mine(user: StaffUser, session: SessionDep) -> list[QueueEntry]:
    return [entry(user, h, c) for h, c in await queries.mine(session, user)]


@router.post(
    "/next",
    response_model=QueueEntry | None,
    summary='"Tomar siguiente": claim the first waiting conversation of my campaigns',
)
async def take_next(user: StaffUser, desk: DeskDep, session: SessionDep) -> QueueEntry | None:
    handoff = await desk.take_next(user)
    if handoff is None:
        return None
    return await entry_for(session, user, handoff)


@router.post(
    "/conversations/{handoff_id}/claim",
    response_model=QueueEntry,
    summary="Take a waiting conversation (or accept an offer)",
    responses={
        404: {"description": "No such conversation in my campaigns"},
        409: {"description": "Taken by someone else, or I am at my maximum"},
    },
)
async def claim(
    handoff_id: RowId, user: StaffUser, desk: DeskDep, session: SessionDep
) -> QueueEntry:
    handoff = await desk.claim(user, handoff_id)
    return await entry_for(session, user, handoff)


@router.post(
    "/conversations/{handoff_id}/decline",
    status_code=204,
    summary="Turn down an offer: back to the queue for someone else",
)
async def decline(handoff_id: RowId, user: AgentUser, desk: DeskDep) -> None:
    await desk.decline(user, handoff_id)


@router.post(
    "/conversations/{handoff_id}/messages",
    response_model=MessageOut,
    summary="Reply to the user on their channel; `/codigo` sends a canned response",
)
async def reply(handoff_id: RowId, body: TextIn, user: StaffUser, desk: DeskDep) -> MessageOut:
    message = await desk.reply(user, handoff_id, body.text)
    return message_out(message, reveal=True)


@router.post(
    "/conversations/{handoff_id}/notes",
    response_model=NoteOut,
    summary="Internal note: only staff see it",
)
async def add_note(handoff_id: RowId, body: TextIn, user: StaffUser, desk: DeskDep) -> NoteOut:
    note = await desk.note(user, handoff_id, body.text)
    return note_out(note)


@router.post(
    "/conversations/{handoff_id}/close",
    response_model=QueueEntry,
    summary="Close with a disposition code; the bot takes over and asks the survey",
)
async def close(
    handoff_id: RowId, body: CloseIn, user: StaffUser, desk: DeskDep, session: SessionDep
) -> QueueEntry:
    handoff = await desk.close(user, handoff_id, body.disposition)
    return await entry_for(session, user, handoff)


@router.post(
    "/conversations/{handoff_id}/transfer",
    response_model=QueueEntry,
    summary="Send the conversation to another campaign's queue",
)
async def transfer(
    handoff_id: RowId, body: TransferIn, user: StaffUser, desk: DeskDep, session: SessionDep
) -> QueueEntry:
    handoff = await desk.transfer(user, handoff_id, body.campaign)
    return await entry_for(session, user, handoff)


def channel_limits(
    request: Request, code: str, history: list[store.Message]
) -> ChannelLimits | None:
    """The limits of the conversation's channel (the app's `channels`), its window measured from
    the person's last message in `history`."""
    channel = getattr(request.app.state, "channels", {}).get(code)
    if channel is None:
        return None
    window: timedelta | None = channel.window
    heard = [m.created_at for m in history if m.author == store.Author.USER]
    return ChannelLimits(
        name=channel.label,
        max_text_chars=channel.max_text_chars,
        sms=channel.sms,
        window_hours=window.total_seconds() / 3600 if window else None,
        window_closes_at=heard[-1] + window if window and heard else None,
        template=bool(window) and channel.template("") is not None,
    )


@router.get(
    "/conversations/{handoff_id}",
    response_model=ConversationOut,
    summary="Transcript (bot part included), context and notes; the view is audited",
)
async def conversation(
    handoff_id: RowId,
    request: Request,
    user: StaffUser,
    session: SessionDep,
    reveal: Annotated[bool, Query(description="Show identifiers unmasked (audited)")] = False,
) -> ConversationOut:
    handoff = await visible(session, user, handoff_id)
    convo = await session.get(store.Conversation, handoff.conversation_id)
    assert convo is not None
    history = await store.history(session, convo.id)
    notes = await queries.notes(session, handoff.id)
    target = f"handoff:{handoff.id}"
    # Every reveal is recorded; a plain view once per half hour (the console refetches the
    # open conversation at each new message).
    if reveal or not await recently_viewed(session, user.username, target):
        record(
            session,
            "transcript_view",
            actor=user.username,
            target=target,
            campaign=handoff.campaign,
            revealed=reveal,
        )
        await session.commit()
    base = entry(user, handoff, convo).model_dump()
    base["sender"] = show_sender(user, convo, reveal)
    if reveal:
        base["summary"] = handoff.summary
    return ConversationOut(
        **base,
        limits=channel_limits(request, convo.channel, history),
        disposition=handoff.disposition,
        csat=handoff.csat,
        context=handoff.context if reveal else mask_values(handoff.context),
        created_at=handoff.created_at,
        assigned_at=handoff.assigned_at,
        closed_at=handoff.closed_at,
        messages=[message_out(m, reveal) for m in history],
        notes=[note_out(n) for n in notes],
        revealed=reveal,
    )


# ---------------------------------------------------------------- agent's tools


@router.get("/canned", summary="Canned responses of my campaigns, with their short codes")
async def canned_responses(user: StaffUser) -> list[dict[str, str]]:
    return canned.canned_for(user.campaigns or list(CAMPAIGNS))


@router.get("/dispositions", summary="Disposition codes for closing")
async def dispositions(user: StaffUser) -> dict[str, str]:
    return DISPOSITIONS


@router.get("/campaigns", summary="Campaign codes and names")
async def campaigns(user: StaffUser) -> dict[str, str]:
    return CAMPAIGNS


@router.put("/me/status", status_code=204, summary='Presence: "available" or "away" (ausente)')
async def set_status(body: StatusIn, user: AgentUser, presence: PresenceDep) -> None:
    await presence.set_status(user.username, AgentStatus(body.status))


@router.get("/me/status", summary="My presence")
async def get_status(user: AgentUser, presence: PresenceDep, session: SessionDep) -> dict[str, Any]:
    row = await presence.presence_of(session, user.username)
    return {"status": row.status, "max_conversations": row.max_conversations}


# ---------------------------------------------------------------- live events


@router.get(
    "/events",
    summary="Server-sent events: `queue`, `conversation`, `presence` (then fetch again)",
    response_class=StreamingResponse,
)
async def events(
    request: Request,
    user: StaffUser,
    sessions: SessionsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    bus = request.app.state.bus
    token, _ = presented_token(request, authorization)
    seen = (user.role, tuple(user.campaigns))

    async def still_allowed() -> bool:
        """The reader's token is still valid and their account unchanged (deactivated, tokens
        revoked, a new role or campaigns: the stream ends, and the console signs in again)."""
        async with sessions() as session:
            now = await service.user_for_token(session, token) if token else None
        return now is not None and (now.role, tuple(now.campaigns)) == seen

    async def stream() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        subscription = bus.subscribe()
        # The next message, awaited across keep-alives: cancelling it would end the
        # subscription (the stream used to die after its first quiet 15 seconds).
        following: asyncio.Future[Any] | None = None
        checked = time.monotonic()
        try:
            while not await request.is_disconnected():
                if following is None:
                    following = asyncio.ensure_future(anext(subscription))
                done, _ = await asyncio.wait({following}, timeout=KEEPALIVE_SECONDS)
                if time.monotonic() - checked >= ACCOUNT_CHECK_SECONDS:
                    checked = time.monotonic()
                    if not await still_allowed():
                        yield 'event: account\ndata: {"type": "account"}\n\n'
                        return
                if not done:
                    yield ": keep-alive\n\n"
                    continue
                topic, data = following.result()
                following = None
                if topic != "console" or not _may_read(user, data):
                    continue
                yield f"event: {data['type']}\ndata: {json.dumps(data)}\n\n"
        finally:
            if following is not None:  # let it finish cancelling before the generator closes
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await following
            await subscription.aclose()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
