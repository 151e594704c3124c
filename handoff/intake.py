"""The handoff inside a user's turn: queueing for a person, and what the queue answers meanwhile.

Called by the gateway (connectors/turns.py) through `core.ports.HumanDesk`, which
`HandoffService` implements with this and presence.py. The gateway holds the conversation's lock;
what these return is said to the user as part of their turn:

* `conversation_started`: the containment denominator (`conversation_started` event);
* `request`: queue the conversation (human mode, the bot paused) and tell the user their place and
  wait, or say why nobody can take it now (outside business hours, no agent available). An
  urgent request (an emergency) is always queued, whatever the hours or who is online, so that
  supervisors see it at once; one that finds the conversation already queued or attended
  escalates that handoff (`escalate`);
* `on_user_message`: a message in human mode is for the agent; the user may leave the queue, and
  is reminded of their place now and then;
* `record_csat`, `record_callback`: the survey answer after a close, a callback request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import conversations as store
from core.db import utcnow
from core.ports import ConversationRef
from core.protocol import CallbackRequest, HandoffRequest, Priority, Reply
from handoff import events, messages, queries
from handoff.context import HandoffContext, Ticks, won
from handoff.events import ConsoleUpdate
from handoff.hours import hours_for
from handoff.models import QUEUED_STATUSES, Callback, EventKind, Handoff, HandoffStatus
from handoff.queueing import end_waiting

STILL_WAITING_EVERY = timedelta(minutes=2)


class Intake:
    def __init__(self, context: HandoffContext, ticks: Ticks) -> None:
        self._context = context
        self._ticks = ticks

    async def conversation_started(self, conversation: ConversationRef) -> None:
        async with self._context.sessions() as session:
            events.record(
                session,
                EventKind.CONVERSATION_STARTED,
                conversation_id=conversation.id,
                channel=conversation.channel,
            )
            await session.commit()

    async def request(self, ref: ConversationRef, request: HandoffRequest) -> list[Reply]:
        """Queue the conversation for a person, or say why nobody can take it now."""
        settings = self._context.settings
        async with self._context.sessions() as session:
            conversation = await session.get(store.Conversation, ref.id)
            assert conversation is not None
            now = utcnow()
            open_handoff = await queries.open_handoff(session, conversation.id)
            if open_handoff is not None and request.priority == Priority.URGENT:
                escalated = await self._escalate(session, conversation, open_handoff, request)
                if escalated is not None:
                    return escalated
                # It ended meanwhile (closed, abandoned): the emergency is queued anew.
                open_handoff = None
            if open_handoff is not None:
                position = await queries.position(session, open_handoff)
                return [messages.already_queued(position or 1)]

            hours = hours_for(request.campaign, settings.handoff_hours, self._context.tz)
            why = None
            if not hours.is_open(now):
                why = "closed"
            elif not await queries.available_agents(session, request.campaign):
                why = "no_agents"
            urgent = request.priority == Priority.URGENT
            if why is not None and not urgent:
                events.record(
                    session,
                    EventKind.HANDOFF_UNAVAILABLE,
                    campaign=request.campaign,
                    conversation_id=conversation.id,
                    channel=conversation.channel,
                    detail={"why": why, "priority": request.priority, "reason": request.reason},
                )
                await session.commit()
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
            events.record_for(
                session,
                EventKind.QUEUED,
                handoff,
                at=now,
                channel=conversation.channel,
                detail={"priority": handoff.priority, "reason": handoff.reason}
                | ({"unattended": why} if why else {}),
            )
            await session.commit()
            await self._context.bot.pause(conversation.ref)
            position = await queries.position(session, handoff) or 1
            eta = await queries.eta_minutes(session, settings, handoff.campaign, position)
            handoff.notified_position = position
            handoff.notified_at = now
            await session.commit()
            await events.console(self._context, ConsoleUpdate.QUEUE, handoff)
            self._ticks.tick_soon()  # offer it now rather than at the next tick
            if urgent:
                return [messages.emergency_queued(handoff.campaign, position)]
            return [messages.queued(handoff.campaign, position, eta)]

    async def _escalate(
        self,
        session: AsyncSession,
        conversation: store.Conversation,
        handoff: Handoff,
        request: HandoffRequest,
    ) -> list[Reply] | None:
        """An emergency in a conversation already queued or attended: its handoff becomes urgent
        (None when it ended in the meantime: the caller queues the emergency anew).

        Still queued: it moves to the emergency's queue (its place starts again there, ahead of
        every non-urgent one; an offer to an agent of another campaign is withdrawn). Attended:
        the agent keeps it, and their console shows the emergency. The caller holds the
        conversation's lock; an agent may take the handoff meanwhile, hence the retries."""
        for _ in range(3):
            if handoff.priority == Priority.URGENT:
                break  # already an emergency: nothing to raise
            now = utcnow()
            previous = {
                "priority": handoff.priority,
                "campaign": handoff.campaign,
                "reason": handoff.reason,
                "status": handoff.status,
            }
            values: dict[str, Any] = {
                "priority": Priority.URGENT,
                "reason": request.reason,
                "context": {**(handoff.context or {}), **request.context},
            }
            moved = handoff.status in QUEUED_STATUSES and handoff.campaign != request.campaign
            if moved:
                values |= {
                    "campaign": request.campaign,
                    "enqueued_at": now,
                    "declined_by": [],
                    "status": HandoffStatus.WAITING,
                    "offered_to": None,
                    "offered_at": None,
                }
            result = await session.execute(
                update(Handoff)
                .where(Handoff.id == handoff.id, Handoff.status == handoff.status)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if not won(result):  # claimed, offered or ended meanwhile: look again
                await session.rollback()
                await session.refresh(conversation)  # a rollback expires what was loaded
                found = await queries.open_handoff(session, conversation.id)
                if found is None:
                    return None
                handoff = found
                continue
            if moved and previous["status"] == HandoffStatus.OFFERED:
                events.record(
                    session,
                    EventKind.OFFER_EXPIRED,
                    at=now,
                    campaign=previous["campaign"],
                    conversation_id=handoff.conversation_id,
                    handoff_id=handoff.id,
                    agent=handoff.offered_to,
                    detail={"why": "escalated"},
                )
            if moved:  # the live figures follow it to its new queue
                events.record(
                    session,
                    EventKind.TRANSFERRED,
                    at=now,
                    campaign=request.campaign,
                    conversation_id=handoff.conversation_id,
                    handoff_id=handoff.id,
                    detail={"from": previous["campaign"], "why": "emergency"},
                )
            events.record(
                session,
                EventKind.ESCALATED,
                at=now,
                campaign=request.campaign if moved else handoff.campaign,
                conversation_id=handoff.conversation_id,
                handoff_id=handoff.id,
                agent=handoff.agent,
                channel=conversation.channel,
                detail={"reason": request.reason, "from": previous}
                | ({"alert": request.context["alert"]} if "alert" in request.context else {}),
            )
            await session.commit()
            await session.refresh(handoff)
            if handoff.status == HandoffStatus.ASSIGNED:
                await events.console(self._context, ConsoleUpdate.CONVERSATION, handoff)
            else:
                await events.console(
                    self._context,
                    ConsoleUpdate.QUEUE,
                    handoff,
                    previous_campaign=previous["campaign"],
                )
                self._ticks.tick_soon()
            break
        if handoff.status == HandoffStatus.ASSIGNED:
            return [messages.emergency_to_agent()]
        position = await queries.position(session, handoff) or 1
        handoff.notified_position = position
        handoff.notified_at = utcnow()
        await session.commit()
        return [messages.emergency_escalated(handoff.campaign, position)]

    async def on_user_message(
        self, ref: ConversationRef, text: str, payload: str | None
    ) -> list[Reply] | None:
        """A message of a conversation in human mode: for the agent; the queue may answer."""
        async with self._context.sessions() as session:
            conversation = await session.get(store.Conversation, ref.id)
            assert conversation is not None
            if conversation.mode != store.Mode.HUMAN:
                return None
            handoff = await queries.open_handoff(session, conversation.id)
            if handoff is None:  # closed in the meantime: the gateway gives it to the bot
                conversation.mode = store.Mode.BOT
                await session.commit()
                return None
            if handoff.status in QUEUED_STATUSES and (
                (payload or text).strip() == messages.LEAVE_QUEUE
                or text.strip().lower() == "salir de la fila"
            ):
                await end_waiting(
                    self._context,
                    session,
                    handoff,
                    conversation,
                    HandoffStatus.ABANDONED,
                    utcnow(),
                )
                return [messages.left_queue()]
            await events.console(self._context, ConsoleUpdate.CONVERSATION, handoff)
            if handoff.status in QUEUED_STATUSES:
                now = utcnow()
                last = handoff.notified_at
                if last is None or now - last >= STILL_WAITING_EVERY:
                    handoff.notified_at = now
                    await session.commit()
                    position = await queries.position(session, handoff)
                    return [messages.still_waiting(position or 1)]
            return []

    async def record_csat(self, conversation: ConversationRef, score: int) -> None:
        """Store the survey answer on the conversation's last closed, unrated handoff."""
        async with self._context.sessions() as session:
            result = await session.execute(
                select(Handoff)
                .where(
                    Handoff.conversation_id == conversation.id,
                    Handoff.status == HandoffStatus.CLOSED,
                    Handoff.csat.is_(None),
                )
                .order_by(Handoff.closed_at.desc())
                .limit(1)
            )
            handoff = result.scalar_one_or_none()
            if handoff is None:
                return
            handoff.csat = score
            events.record_for(
                session,
                EventKind.CSAT,
                handoff,
                agent=handoff.agent,
                channel=conversation.channel,
                value=score,
            )
            await session.commit()

    async def record_callback(
        self, conversation: ConversationRef, request: CallbackRequest
    ) -> None:
        async with self._context.sessions() as session:
            session.add(
                Callback(
                    conversation_id=conversation.id,
                    campaign=request.campaign,
                    phone=request.phone,
                    preferred_time=request.preferred_time,
                )
            )
            events.record(
                session,
                EventKind.CALLBACK_REQUESTED,
                campaign=request.campaign,
                conversation_id=conversation.id,
                channel=conversation.channel,
            )
            await session.commit()
        await events.console(self._context, ConsoleUpdate.QUEUE, campaign=request.campaign)
