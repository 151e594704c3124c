"""Every state change of a handoff, each one writing its row in `handoff_events`.

Two kinds of callers:

* the gateway, inside a user's turn (it holds the conversation's lock and its database session):
  `request`, `on_user_message`, `record_csat`, `record_callback`, `conversation_started`; what
  they return is said to the user as part of that turn;
* staff (the API) and the background loop (`tick`): they change a handoff outside the user's turn,
  so what the user must hear is stored and published on the bus (`deliver`), and the consoles are
  told on the `console` topic.

Races between agents, and between gateway processes running `tick`, are settled by conditional
UPDATEs (`... WHERE status = 'waiting'`): the row count says who won.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import conversations as store
from core.accounts.models import User
from core.bus import Bus
from core.campaigns import CAMPAIGNS
from core.db import utcnow
from core.errors import ApiError
from core.locks import ConversationLocks
from core.ports import BotControl, ConversationRef, Postman
from core.protocol import BotAction, CallbackRequest, HandoffRequest, Priority
from core.settings import Settings
from handoff import canned, messages, routing
from handoff.hours import hours_for
from handoff.models import (
    OPEN_STATUSES,
    QUEUED_STATUSES,
    AgentPresence,
    Callback,
    Handoff,
    HandoffEvent,
    HandoffNote,
)

log = logging.getLogger(__name__)

DISPOSITIONS: dict[str, str] = {
    "resuelto": "Resuelto",
    "informacion_proporcionada": "Información proporcionada",
    "canalizado": "Canalizado a otra área o trámite presencial",
    "cita_agendada": "Cita agendada",
    "seguimiento": "Requiere seguimiento",
    "sin_respuesta": "El usuario dejó de responder",
    "fuera_de_alcance": "Fuera del alcance del Instituto",
    "emergencia": "Emergencia canalizada a 911 / urgencias",
}
AGENT_STATUSES = ("available", "away", "offline")
STILL_WAITING_EVERY = timedelta(minutes=2)
SEEN_EVERY = timedelta(seconds=10)  # an agent's activity is written at most this often


class HandoffError(ApiError):
    """A request that cannot be done now: an HTTP status, a code and a Spanish message."""


NOT_FOUND = HandoffError(404, "not_found", "No existe esa conversación o no tienes acceso a ella.")


def can_see(user: User, campaign: str) -> bool:
    """Whether a staff member may see a campaign's queue and conversations."""
    if user.role == "admin":
        return True
    if user.role == "supervisor":
        return not user.campaigns or campaign in user.campaigns
    return user.role == "agent" and campaign in user.campaigns


def seconds_between(start: datetime | None, end: datetime) -> float | None:
    if start is None:
        return None
    if start.tzinfo is None:  # SQLite returns naive datetimes; they are stored in UTC
        start = start.replace(tzinfo=UTC)
    return max((end - start).total_seconds(), 0.0)


class HandoffService:
    def __init__(
        self,
        sessions: async_sessionmaker,
        settings: Settings,
        bot: BotControl,
        postman: Postman,
        bus: Bus,
        locks: ConversationLocks,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._bot = bot
        self._postman = postman
        self._bus = bus
        self._locks = locks
        self._tz = ZoneInfo(settings.timezone)
        self._seen: dict[str, datetime] = {}
        self._stopping = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()

    async def on_account(self, event: str, user: User) -> None:
        """Listener of sign-ins: an agent is available from login until logout."""
        if user.role != "agent":
            return
        if event == "login":
            await self.set_status(user.username, "available", reason="login")
        elif event == "logout":
            await self.set_status(user.username, "offline", reason="logout")
        elif event == "seen":
            await self.seen(user)

    # ------------------------------------------------------------------ events and delivery

    def _event(self, session: AsyncSession, kind: str, **fields: Any) -> None:
        session.add(
            HandoffEvent(kind=kind, created_at=fields.pop("at", None) or utcnow(), **fields)
        )

    def _handoff_event(
        self, session: AsyncSession, kind: str, handoff: Handoff, **fields: Any
    ) -> None:
        """An event of a handoff: its campaign, conversation and id filled in."""
        self._event(
            session,
            kind,
            campaign=handoff.campaign,
            conversation_id=handoff.conversation_id,
            handoff_id=handoff.id,
            **fields,
        )

    async def _console(self, kind: str, handoff: Handoff | None = None, **extra: Any) -> None:
        data = {"type": kind, **extra}
        if handoff is not None:
            data |= {"handoff_id": handoff.id, "campaign": handoff.campaign}
        await self._bus.publish("console", data)

    async def _deliver(
        self,
        session: AsyncSession,
        conversation: store.Conversation,
        replies: list[dict[str, Any]],
        author: store.Author = store.Author.BOT,
    ) -> list[store.Message]:
        """Commit messages for the user to the outbox and have them delivered."""
        stored = store.queue_outbound(session, conversation.id, replies, author=author)
        await session.commit()
        await self._postman.wake(conversation.id)
        return stored

    # ------------------------------------------------------------------ inside a user's turn

    async def conversation_started(self, conversation: ConversationRef) -> None:
        async with self._sessions() as session:
            self._event(
                session,
                "conversation_started",
                conversation_id=conversation.id,
                channel=conversation.channel,
            )
            await session.commit()

    async def request(
        self, ref: ConversationRef, request: HandoffRequest
    ) -> list[dict[str, Any]]:
        """Queue the conversation for a person, or say why nobody can take it now."""
        async with self._sessions() as session:
            conversation = await session.get(store.Conversation, ref.id)
            assert conversation is not None
            return await self._request(session, conversation, request)

    async def _request(
        self, session: AsyncSession, conversation: store.Conversation, request: HandoffRequest
    ) -> list[dict[str, Any]]:
        now = utcnow()
        open_handoff = await self._open_handoff(session, conversation.id)
        if open_handoff is not None:
            position = await self._position(session, open_handoff)
            return [messages.already_queued(position or 1)]

        hours = hours_for(request.campaign, self._settings.handoff_hours, self._tz)
        why = None
        if not hours.is_open(now):
            why = "closed"
        elif not await self._available_agents(session, request.campaign):
            why = "no_agents"
        if why is not None:
            self._event(
                session,
                "handoff_unavailable",
                campaign=request.campaign,
                conversation_id=conversation.id,
                channel=conversation.channel,
                detail={"why": why, "priority": request.priority, "reason": request.reason},
            )
            await session.commit()
            if request.priority == Priority.URGENT:
                return [messages.emergency_no_agents()]
            if why == "closed":
                return [messages.closed_hours(request.campaign, hours.describe())]
            return [messages.no_agents(request.campaign)]

        handoff = Handoff(
            conversation_id=conversation.id,
            campaign=request.campaign,
            priority=request.priority,
            reason=request.reason,
            summary=request.summary,
            context=request.context or {},
            created_at=now,
            enqueued_at=now,
            declined_by=[],
        )
        session.add(handoff)
        conversation.mode = store.Mode.HUMAN
        try:
            await session.flush()
        except IntegrityError:  # another process queued it a moment ago
            await session.rollback()
            return []
        self._event(
            session,
            "queued",
            at=now,
            campaign=handoff.campaign,
            conversation_id=conversation.id,
            handoff_id=handoff.id,
            channel=conversation.channel,
            detail={"priority": handoff.priority, "reason": handoff.reason},
        )
        await session.commit()
        await self._bot.pause(conversation.ref)
        position = await self._position(session, handoff) or 1
        eta = await self._eta_minutes(session, handoff.campaign, position)
        handoff.notified_position = position
        handoff.notified_at = now
        await session.commit()
        await self._console("queue", handoff)
        self._tick_soon()  # offer it now rather than at the next tick
        return [messages.queued(handoff.campaign, position, eta)]

    async def on_user_message(
        self, ref: ConversationRef, text: str, payload: str | None
    ) -> list[dict[str, Any]] | None:
        """A message of a conversation in human mode: for the agent; the queue may answer."""
        async with self._sessions() as session:
            conversation = await session.get(store.Conversation, ref.id)
            assert conversation is not None
            return await self._on_user_message(session, conversation, text, payload)

    async def _on_user_message(
        self,
        session: AsyncSession,
        conversation: store.Conversation,
        text: str,
        payload: str | None,
    ) -> list[dict[str, Any]] | None:
        if conversation.mode != store.Mode.HUMAN:
            return None
        handoff = await self._open_handoff(session, conversation.id)
        if handoff is None:  # closed in the meantime: the gateway gives it to the bot
            conversation.mode = store.Mode.BOT
            await session.commit()
            return None
        if handoff.status in QUEUED_STATUSES and (
            (payload or text).strip() == messages.LEAVE_QUEUE
            or text.strip().lower() == "salir de la fila"
        ):
            await self._end_waiting(session, handoff, conversation, "abandoned", utcnow())
            return [messages.left_queue()]
        await self._console("conversation", handoff)
        if handoff.status in QUEUED_STATUSES:
            now = utcnow()
            last = handoff.notified_at
            if last is None or seconds_between(last, now) >= STILL_WAITING_EVERY.total_seconds():
                handoff.notified_at = now
                await session.commit()
                return [messages.still_waiting(await self._position(session, handoff) or 1)]
        return []

    async def record_csat(self, conversation: ConversationRef, score: int) -> None:
        """Store the survey answer on the conversation's last closed, unrated handoff."""
        async with self._sessions() as session:
            await self._record_csat(session, conversation, score)

    async def _record_csat(
        self, session: AsyncSession, conversation: ConversationRef, value: int
    ) -> bool:
        result = await session.execute(
            select(Handoff)
            .where(
                Handoff.conversation_id == conversation.id,
                Handoff.status == "closed",
                Handoff.csat.is_(None),
            )
            .order_by(Handoff.closed_at.desc())
            .limit(1)
        )
        handoff = result.scalar_one_or_none()
        if handoff is None:
            return False
        handoff.csat = value
        self._event(
            session,
            "csat",
            campaign=handoff.campaign,
            conversation_id=conversation.id,
            handoff_id=handoff.id,
            agent=handoff.agent,
            channel=conversation.channel,
            value=value,
        )
        await session.commit()
        return True

    async def record_callback(
        self, conversation: ConversationRef, request: CallbackRequest
    ) -> None:
        async with self._sessions() as session:
            session.add(
                Callback(
                    conversation_id=conversation.id,
                    campaign=request.campaign,
                    phone=request.phone,
                    preferred_time=request.preferred_time,
                )
            )
            self._event(
                session,
                "callback_requested",
                campaign=request.campaign,
                conversation_id=conversation.id,
                channel=conversation.channel,
            )
            await session.commit()
        await self._console("queue", campaign=request.campaign)

    # ------------------------------------------------------------------ staff

    async def get(self, session: AsyncSession, user: User, handoff_id: int) -> Handoff:
        handoff = await session.get(Handoff, handoff_id)
        if handoff is None or not can_see(user, handoff.campaign):
            raise NOT_FOUND
        return handoff

    async def claim(self, user: User, handoff_id: int) -> Handoff:
        async with self._sessions() as session:
            handoff = await self.get(session, user, handoff_id)
            if user.role == "agent":
                load = await self._load(session, user.username, exclude=handoff.id)
                presence = await self._presence(session, user.username)
                if load >= presence.max_conversations:
                    raise HandoffError(
                        409,
                        "at_capacity",
                        f"Ya atiendes {load} conversaciones, el máximo. Cierra una para tomar "
                        "otra.",
                    )
            now = utcnow()
            result = await session.execute(
                update(Handoff)
                .where(
                    Handoff.id == handoff_id,
                    (Handoff.status == "waiting")
                    | ((Handoff.status == "offered") & (Handoff.offered_to == user.username)),
                )
                .values(status="assigned", agent=user.username, assigned_at=now, offered_to=None)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                await session.rollback()
                await session.refresh(handoff)
                if handoff.status == "assigned" and handoff.agent == user.username:
                    return handoff  # claimed twice by the same agent: nothing to do
                raise HandoffError(
                    409,
                    "not_available",
                    "Esta conversación ya no está en la fila: otra persona "
                    "la tomó o el usuario se fue.",
                )
            self._handoff_event(
                session,
                "assigned",
                handoff,
                at=now,
                agent=user.username,
                value=seconds_between(handoff.created_at, now),
            )
            await session.execute(
                update(AgentPresence)
                .where(AgentPresence.username == user.username)
                .values(last_assigned_at=now)
            )
            await session.commit()
            await session.refresh(handoff)
            conversation = await session.get(store.Conversation, handoff.conversation_id)
            assert conversation is not None
            await self._deliver(session, conversation, [messages.assigned(handoff.campaign)])
        await self._console("queue", handoff)
        return handoff

    async def take_next(self, user: User) -> Handoff | None:
        """Tomar siguiente (take next): the first conversation of my campaigns I may take."""
        async with self._sessions() as session:
            result = await session.execute(
                select(Handoff).where(
                    Handoff.status.in_(QUEUED_STATUSES),
                    Handoff.campaign.in_(user.campaigns or list(CAMPAIGNS)),
                )
            )
            candidates = [
                h
                for h in result.scalars()
                if h.status == "waiting" or h.offered_to == user.username
            ]
        for entry in routing.queue_order(self._waiting(candidates)):
            try:
                return await self.claim(user, entry.conversation_id)
            except HandoffError as exc:
                if exc.code == "at_capacity":
                    raise
        return None

    async def decline(self, user: User, handoff_id: int) -> None:
        async with self._sessions() as session:
            handoff = await self.get(session, user, handoff_id)
            await self._withdraw_offer(session, handoff, user.username, "declined")

    async def reply(self, user: User, handoff_id: int, text: str) -> store.Message:
        async with self._sessions() as session:
            handoff = await self._assigned_to(session, user, handoff_id)
            text = canned.expand(handoff.campaign, text)
            conversation = await session.get(store.Conversation, handoff.conversation_id)
            assert conversation is not None
            async with self._locks.hold(conversation.id):
                now = utcnow()
                if handoff.first_response_at is None:
                    handoff.first_response_at = now
                    self._handoff_event(
                        session,
                        "first_response",
                        handoff,
                        at=now,
                        agent=user.username,
                        channel=conversation.channel,
                        value=seconds_between(handoff.created_at, now),
                    )
                [message] = await self._deliver(
                    session, conversation, [{"text": text, "buttons": []}], store.Author.AGENT
                )
        await self._console("conversation", handoff)
        return message

    async def note(self, user: User, handoff_id: int, text: str) -> HandoffNote:
        async with self._sessions() as session:
            handoff = await self.get(session, user, handoff_id)
            note = HandoffNote(handoff_id=handoff.id, author=user.username, text=text)
            session.add(note)
            await session.commit()
        await self._console("conversation", handoff)
        return note

    async def close(self, user: User, handoff_id: int, disposition: str) -> Handoff:
        if disposition not in DISPOSITIONS:
            raise HandoffError(
                400,
                "unknown_disposition",
                f"Código de cierre desconocido. Códigos: {', '.join(DISPOSITIONS)}.",
            )
        async with self._sessions() as session:
            handoff = await self._assigned_to(session, user, handoff_id, supervisor_ok=True)
            conversation = await session.get(store.Conversation, handoff.conversation_id)
            assert conversation is not None
            async with self._locks.hold(conversation.id):
                now = utcnow()
                result = await session.execute(
                    update(Handoff)
                    .where(Handoff.id == handoff.id, Handoff.status == "assigned")
                    .values(status="closed", closed_at=now, disposition=disposition)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:
                    await session.rollback()
                    raise HandoffError(409, "not_open", "Esta conversación ya estaba cerrada.")
                conversation.mode = store.Mode.BOT
                self._event(
                    session,
                    "closed",
                    at=now,
                    campaign=handoff.campaign,
                    conversation_id=conversation.id,
                    handoff_id=handoff.id,
                    agent=handoff.agent,
                    channel=conversation.channel,
                    value=seconds_between(handoff.assigned_at, now),
                    detail={"disposition": disposition, "closed_by": user.username},
                )
                await session.commit()
                await session.refresh(handoff)
                replies = await self._bot.resume(conversation.ref, BotAction.HANDOFF_CLOSED)
                await self._deliver(session, conversation, replies or [messages.closed_fallback()])
        await self._console("queue", handoff)
        return handoff

    async def transfer(self, user: User, handoff_id: int, campaign: str) -> Handoff:
        if campaign not in CAMPAIGNS:
            raise HandoffError(400, "unknown_campaign", "Esa campaña no existe.")
        async with self._sessions() as session:
            handoff = await self._assigned_to(session, user, handoff_id, supervisor_ok=True)
            if handoff.campaign == campaign:
                raise HandoffError(400, "same_campaign", "La conversación ya es de esa campaña.")
            previous = handoff.campaign
            now = utcnow()
            result = await session.execute(
                update(Handoff)
                .where(Handoff.id == handoff.id, Handoff.status == "assigned")
                .values(
                    status="waiting",
                    campaign=campaign,
                    agent=None,
                    enqueued_at=now,
                    declined_by=[],
                    offered_to=None,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                await session.rollback()
                raise HandoffError(409, "not_open", "Esta conversación ya no está abierta.")
            self._event(
                session,
                "transferred",
                at=now,
                campaign=campaign,
                conversation_id=handoff.conversation_id,
                handoff_id=handoff.id,
                agent=user.username,
                detail={"from": previous},
            )
            await session.commit()
            await session.refresh(handoff)
            conversation = await session.get(store.Conversation, handoff.conversation_id)
            assert conversation is not None
            position = await self._position(session, handoff) or 1
            eta = await self._eta_minutes(session, campaign, position)
            handoff.notified_position = position
            await session.commit()
            await self._deliver(
                session, conversation, [messages.transferred(campaign, position, eta)]
            )
        await self._console("queue", handoff, previous_campaign=previous)
        await self._safe_tick()
        return handoff

    async def set_status(self, username: str, status: str, reason: str = "manual") -> None:
        """An agent's presence; every change is an `agent_status` event."""
        assert status in AGENT_STATUSES
        async with self._sessions() as session:
            presence = await self._presence(session, username)
            user = (
                await session.execute(select(User).where(User.username == username))
            ).scalar_one_or_none()
            now = utcnow()
            presence.last_seen_at = now
            if presence.status == status:
                await session.commit()
                return
            presence.status = status
            presence.changed_at = now
            self._event(
                session,
                "agent_status",
                at=now,
                agent=username,
                detail={
                    "status": status,
                    "reason": reason,
                    "campaigns": list(user.campaigns) if user else [],
                },
            )
            if status != "available":
                # Offers to an agent who is not there go back to the queue at once.
                result = await session.execute(
                    select(Handoff).where(
                        Handoff.status == "offered", Handoff.offered_to == username
                    )
                )
                for handoff in result.scalars():
                    await self._withdraw_offer(session, handoff, username, "offer_expired")
            await session.commit()
        await self._console("presence", agent=username)
        if status == "available":
            await self._safe_tick()

    async def seen(self, user: User) -> None:
        """Activity of an agent (any API call): keeps them from being marked idle."""
        now = utcnow()
        last = self._seen.get(user.username)
        if user.role != "agent" or (last is not None and (now - last) < SEEN_EVERY):
            return
        self._seen[user.username] = now
        async with self._sessions() as session:
            await session.execute(
                update(AgentPresence)
                .where(AgentPresence.username == user.username)
                .values(last_seen_at=utcnow())
            )
            await session.commit()

    # ------------------------------------------------------------------ the user's presence

    async def user_left(self, conversation: ConversationRef) -> None:
        await self._set_user_left(conversation, utcnow())

    async def user_returned(self, conversation: ConversationRef) -> None:
        await self._set_user_left(conversation, None)

    async def _set_user_left(self, ref: ConversationRef, when: datetime | None) -> None:
        async with self._sessions() as session:
            conversation = await session.get(store.Conversation, ref.id)
            if conversation is None or conversation.mode != store.Mode.HUMAN:
                return
            await session.execute(
                update(Handoff)
                .where(
                    Handoff.conversation_id == conversation.id,
                    Handoff.status.in_(QUEUED_STATUSES),
                )
                .values(user_left_at=when)
            )
            await session.commit()

    # ------------------------------------------------------------------ the background loop

    async def run(self) -> None:
        """The loop, until `stop()`; it is never cancelled in the middle of a database call."""
        while not self._stopping.is_set():
            await self._safe_tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self._settings.handoff_tick_seconds
                )

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.gather(*self._background, return_exceptions=True)

    def _tick_soon(self) -> None:
        task = asyncio.get_running_loop().create_task(self._safe_tick())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _safe_tick(self) -> None:
        try:
            await self.tick()
        except Exception:  # the loop must survive a bad moment (database busy, Rasa down)
            log.exception("handoff tick failed")

    async def tick(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        settings = self._settings
        async with self._sessions() as session:
            await self._expire_offers(
                session, now - timedelta(seconds=settings.handoff_offer_timeout_seconds)
            )
            await self._mark_idle(
                session, now - timedelta(seconds=settings.handoff_agent_idle_seconds)
            )
            queued = list(
                (
                    await session.execute(
                        select(Handoff).where(Handoff.status.in_(QUEUED_STATUSES))
                    )
                ).scalars()
            )
            abandon_before = now - timedelta(seconds=settings.handoff_abandon_after_seconds)
            expire_before = now - timedelta(seconds=settings.handoff_queue_timeout_seconds)
            remaining = []
            for handoff in queued:
                left = handoff.user_left_at
                if left is not None and seconds_between(left, abandon_before) > 0:
                    await self._end_waiting_by_id(session, handoff, "abandoned", now)
                elif seconds_between(handoff.created_at, expire_before) > 0:
                    await self._end_waiting_by_id(session, handoff, "expired", now)
                else:
                    remaining.append(handoff)
            await self._offer(session, [h for h in remaining if h.status == "waiting"], now)
            await self._notify_positions(session, remaining)

    async def _expire_offers(self, session: AsyncSession, offered_before: datetime) -> None:
        result = await session.execute(
            select(Handoff).where(Handoff.status == "offered", Handoff.offered_at < offered_before)
        )
        for handoff in result.scalars().all():
            assert handoff.offered_to is not None
            await self._withdraw_offer(session, handoff, handoff.offered_to, "offer_expired")

    async def _withdraw_offer(
        self, session: AsyncSession, handoff: Handoff, agent: str, kind: str
    ) -> None:
        result = await session.execute(
            update(Handoff)
            .where(
                Handoff.id == handoff.id, Handoff.status == "offered", Handoff.offered_to == agent
            )
            .values(
                status="waiting",
                offered_to=None,
                offered_at=None,
                declined_by=[*handoff.declined_by, agent],
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            await session.rollback()
            return
        self._handoff_event(
            session,
            "offer_expired",
            handoff,
            agent=agent,
            detail={"why": kind},
        )
        await session.commit()
        await session.refresh(handoff)
        await self._console("queue", handoff)

    async def _mark_idle(self, session: AsyncSession, seen_before: datetime) -> None:
        result = await session.execute(
            select(AgentPresence.username).where(
                AgentPresence.status == "available", AgentPresence.last_seen_at < seen_before
            )
        )
        for username in result.scalars().all():
            await self.set_status(username, "away", reason="idle")

    async def _offer(self, session: AsyncSession, waiting: list[Handoff], now: datetime) -> None:
        if not waiting:
            return
        agents = {a.username: a for a in await self._agents(session)}
        by_id = {h.id: h for h in waiting}
        for entry in routing.queue_order(self._waiting(waiting)):
            handoff = by_id[entry.conversation_id]
            candidates = [a for a in agents.values() if a.username not in handoff.declined_by]
            agent = routing.pick_agent(candidates, handoff.campaign)
            if agent is None:
                continue
            result = await session.execute(
                update(Handoff)
                .where(Handoff.id == handoff.id, Handoff.status == "waiting")
                .values(status="offered", offered_to=agent.username, offered_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                await session.rollback()
                continue
            self._handoff_event(
                session,
                "offered",
                handoff,
                at=now,
                agent=agent.username,
            )
            await session.commit()
            agents[agent.username] = routing.Agent(
                username=agent.username,
                campaigns=agent.campaigns,
                available=True,
                open_conversations=agent.open_conversations + 1,
                max_conversations=agent.max_conversations,
                last_assigned_at=now,
            )
            await self._console("queue", handoff, offered_to=agent.username)

    async def _notify_positions(self, session: AsyncSession, queued: list[Handoff]) -> None:
        """Tell a user their new place when it changed a lot: halved, or they are next."""
        for handoff in queued:
            await session.refresh(handoff)
            if handoff.status not in QUEUED_STATUSES:
                continue
            position = routing.position(self._waiting(queued), handoff.id)
            if not routing.worth_telling(handoff.notified_position, position):
                continue
            handoff.notified_position = position
            handoff.notified_at = utcnow()
            await session.commit()
            conversation = await session.get(store.Conversation, handoff.conversation_id)
            assert conversation is not None
            eta = await self._eta_minutes(session, handoff.campaign, position)
            await self._deliver(session, conversation, [messages.position_changed(position, eta)])

    async def _end_waiting_by_id(
        self, session: AsyncSession, handoff: Handoff, status: str, now: datetime
    ) -> None:
        conversation = await session.get(store.Conversation, handoff.conversation_id)
        assert conversation is not None
        async with self._locks.hold(conversation.id):
            if await self._end_waiting(session, handoff, conversation, status, now):
                reply = (
                    messages.left_queue()
                    if status == "abandoned"
                    else messages.expired(handoff.campaign)
                )
                await self._deliver(session, conversation, [reply])

    async def _end_waiting(
        self,
        session: AsyncSession,
        handoff: Handoff,
        conversation: store.Conversation,
        status: str,
        now: datetime,
    ) -> bool:
        """abandoned (the user left) or expired (nobody answered): back to the bot."""
        result = await session.execute(
            update(Handoff)
            .where(Handoff.id == handoff.id, Handoff.status.in_(QUEUED_STATUSES))
            .values(status=status, closed_at=now, offered_to=None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            await session.rollback()
            return False
        conversation.mode = store.Mode.BOT
        self._event(
            session,
            status,
            at=now,
            campaign=handoff.campaign,
            conversation_id=conversation.id,
            handoff_id=handoff.id,
            channel=conversation.channel,
            value=seconds_between(handoff.created_at, now),
        )
        await session.commit()
        await session.refresh(handoff)
        await self._bot.resume(conversation.ref, None)
        await self._console("queue", handoff)
        return True

    # ------------------------------------------------------------------ queries

    async def notes(self, session: AsyncSession, handoff_id: int) -> list[HandoffNote]:
        result = await session.execute(
            select(HandoffNote).where(HandoffNote.handoff_id == handoff_id).order_by(HandoffNote.id)
        )
        return list(result.scalars())

    async def presence_of(self, session: AsyncSession, username: str) -> AgentPresence:
        presence = await self._presence(session, username)
        await session.commit()
        return presence

    async def _open_handoff(self, session: AsyncSession, conversation_id: int) -> Handoff | None:
        result = await session.execute(
            select(Handoff).where(
                Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES)
            )
        )
        return result.scalar_one_or_none()

    async def _assigned_to(
        self, session: AsyncSession, user: User, handoff_id: int, supervisor_ok: bool = False
    ) -> Handoff:
        handoff = await self.get(session, user, handoff_id)
        if handoff.status != "assigned":
            raise HandoffError(
                409, "not_assigned", "Esta conversación no está en atención: tómala primero."
            )
        mine = handoff.agent == user.username
        if not mine and not (supervisor_ok and user.role in ("supervisor", "admin")):
            raise HandoffError(403, "not_yours", "Esta conversación la atiende otra persona.")
        return handoff

    async def _presence(self, session: AsyncSession, username: str) -> AgentPresence:
        presence = await session.get(AgentPresence, username)
        if presence is None:
            presence = AgentPresence(
                username=username,
                status="offline",
                max_conversations=self._settings.handoff_max_conversations,
                changed_at=utcnow(),
            )
            session.add(presence)
            try:
                await session.flush()
            except IntegrityError:
                await session.rollback()
                presence = await session.get(AgentPresence, username)
                assert presence is not None
        return presence

    async def _load(self, session: AsyncSession, username: str, exclude: int | None = None) -> int:
        query = select(func.count()).where(
            ((Handoff.status == "assigned") & (Handoff.agent == username))
            | ((Handoff.status == "offered") & (Handoff.offered_to == username))
        )
        if exclude is not None:
            query = query.where(Handoff.id != exclude)
        return int((await session.execute(query)).scalar_one())

    async def _agents(self, session: AsyncSession) -> list[routing.Agent]:
        """Agents who could be offered a conversation now, with their load."""
        rows = await session.execute(
            select(User, AgentPresence)
            .join(AgentPresence, AgentPresence.username == User.username)
            .where(User.role == "agent", User.active.is_(True))
        )
        agents = []
        for user, presence in rows.all():
            agents.append(
                routing.Agent(
                    username=user.username,
                    campaigns=frozenset(user.campaigns),
                    available=presence.status == "available",
                    open_conversations=await self._load(session, user.username),
                    max_conversations=presence.max_conversations,
                    last_assigned_at=presence.last_assigned_at,
                )
            )
        return agents

    async def _available_agents(self, session: AsyncSession, campaign: str) -> list[routing.Agent]:
        return [a for a in await self._agents(session) if a.available and campaign in a.campaigns]

    @staticmethod
    def _waiting(handoffs: Iterable[Handoff]) -> list[routing.Waiting]:
        return [
            routing.Waiting(
                conversation_id=h.id,
                campaign=h.campaign,
                priority=h.priority,
                enqueued_at=h.enqueued_at.replace(tzinfo=UTC)
                if h.enqueued_at.tzinfo is None
                else h.enqueued_at,
            )
            for h in handoffs
        ]

    async def _position(self, session: AsyncSession, handoff: Handoff) -> int | None:
        result = await session.execute(
            select(Handoff).where(
                Handoff.status.in_(QUEUED_STATUSES), Handoff.campaign == handoff.campaign
            )
        )
        return routing.position(self._waiting(result.scalars()), handoff.id)

    async def _eta_minutes(self, session: AsyncSession, campaign: str, position: int) -> int:
        """Place × recent mean handle time ÷ the conversations the campaign's agents can hold."""
        week_ago = utcnow() - timedelta(days=7)
        mean = (
            await session.execute(
                select(func.avg(HandoffEvent.value)).where(
                    HandoffEvent.kind == "closed",
                    HandoffEvent.campaign == campaign,
                    HandoffEvent.created_at >= week_ago,
                )
            )
        ).scalar_one()
        handle = float(mean) if mean else self._settings.handoff_default_handle_seconds
        agents = await self._available_agents(session, campaign)
        slots = max(1, sum(a.max_conversations for a in agents))
        return max(1, math.ceil(position * handle / slots / 60))

    async def queue(
        self, session: AsyncSession, user: User
    ) -> list[tuple[Handoff, store.Conversation, int]]:
        """The waiting conversations this user may see, in queue order, with their place."""
        result = await session.execute(
            select(Handoff, store.Conversation)
            .join(store.Conversation, store.Conversation.id == Handoff.conversation_id)
            .where(Handoff.status.in_(QUEUED_STATUSES))
        )
        rows = [(h, c) for h, c in result.all() if can_see(user, h.campaign)]
        entries = self._waiting(h for h, _ in rows)
        by_id = {h.id: (h, c) for h, c in rows}
        ordered = routing.queue_order(entries)
        return [
            (*by_id[e.conversation_id], routing.position(entries, e.conversation_id) or 0)
            for e in ordered
        ]

    async def mine(
        self, session: AsyncSession, user: User
    ) -> list[tuple[Handoff, store.Conversation]]:
        result = await session.execute(
            select(Handoff, store.Conversation)
            .join(store.Conversation, store.Conversation.id == Handoff.conversation_id)
            .where(
                ((Handoff.status == "assigned") & (Handoff.agent == user.username))
                | ((Handoff.status == "offered") & (Handoff.offered_to == user.username))
            )
            .order_by(Handoff.id)
        )
        return [(h, c) for h, c in result.all()]
