"""The background loop: what happens to the queue as time passes.

Each round (`tick`): take back offers not accepted in time, mark idle agents away, record users
who left the queue as abandoned and users nobody answered as expired (both back to the bot),
offer waiting handoffs to agents, and tell users their new place when it changed a lot.

`run` is started by the app factory in each gateway process (through `HandoffService.run`), every
`handoff_tick_seconds`; every step is a conditional UPDATE, so several processes can run it. The
other jobs ask for a round on demand (`context.Ticks`): intake after queueing, the desk after a
transfer, presence when an agent becomes available.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import conversations as store
from core.db import utcnow
from handoff import events, messages, queries, routing
from handoff.context import HandoffContext, won
from handoff.events import ConsoleUpdate
from handoff.models import (
    QUEUED_STATUSES,
    AgentPresence,
    AgentStatus,
    EventKind,
    Handoff,
    HandoffStatus,
)
from handoff.presence import change_status
from handoff.queueing import end_waiting, withdraw_offer

log = logging.getLogger(__name__)


class Ticker:
    """Implements `context.Ticks`."""

    def __init__(self, context: HandoffContext) -> None:
        self._context = context
        self._stopping = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """The loop, until `stop()`; it is never cancelled in the middle of a database call."""
        while not self._stopping.is_set():
            await self.tick_now()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self._context.settings.handoff_tick_seconds
                )

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.gather(*self._background, return_exceptions=True)

    def tick_soon(self) -> None:
        task = asyncio.get_running_loop().create_task(self.tick_now())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def tick_now(self) -> None:
        try:
            await self.tick()
        except Exception:  # the loop must survive a bad moment (database busy, Rasa down)
            log.exception("handoff tick failed")

    async def tick(self, now: datetime | None = None) -> None:
        """One round, as if it were `now` (tests move the clock)."""
        now = now or utcnow()
        settings = self._context.settings
        async with self._context.sessions() as session:
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
                if left is not None and left < abandon_before:
                    await self._end_wait(session, handoff, HandoffStatus.ABANDONED, now)
                elif handoff.created_at < expire_before:
                    await self._end_wait(session, handoff, HandoffStatus.EXPIRED, now)
                else:
                    remaining.append(handoff)
            await self._offer(
                session, [h for h in remaining if h.status == HandoffStatus.WAITING], now
            )
            await self._notify_positions(session, remaining)

    async def _expire_offers(self, session: AsyncSession, offered_before: datetime) -> None:
        result = await session.execute(
            select(Handoff).where(
                Handoff.status == HandoffStatus.OFFERED, Handoff.offered_at < offered_before
            )
        )
        for handoff in result.scalars().all():
            assert handoff.offered_to is not None
            await withdraw_offer(
                self._context,
                session,
                handoff,
                handoff.offered_to,
                EventKind.OFFER_EXPIRED,
                why="timeout",
            )

    async def _mark_idle(self, session: AsyncSession, seen_before: datetime) -> None:
        result = await session.execute(
            select(AgentPresence.username).where(
                AgentPresence.status == AgentStatus.AVAILABLE,
                AgentPresence.last_seen_at < seen_before,
            )
        )
        for username in result.scalars().all():
            await change_status(self._context, username, AgentStatus.AWAY, reason="idle")

    async def _offer(self, session: AsyncSession, waiting: list[Handoff], now: datetime) -> None:
        """Offer each waiting handoff, in queue order, to the agent the routing rules pick."""
        if not waiting:
            return
        agents = {a.username: a for a in await queries.agents(session)}
        by_id = {h.id: h for h in waiting}
        for entry in routing.queue_order(queries.waiting_entries(waiting)):
            handoff = by_id[entry.conversation_id]
            candidates = [a for a in agents.values() if a.username not in handoff.declined_by]
            agent = routing.pick_agent(candidates, handoff.campaign)
            if agent is None:
                continue
            result = await session.execute(
                update(Handoff)
                .where(Handoff.id == handoff.id, Handoff.status == HandoffStatus.WAITING)
                .values(status=HandoffStatus.OFFERED, offered_to=agent.username, offered_at=now)
                .execution_options(synchronize_session=False)
            )
            if not won(result):
                await session.rollback()
                continue
            events.record_for(session, EventKind.OFFERED, handoff, at=now, agent=agent.username)
            await session.commit()
            agents[agent.username] = routing.Agent(
                username=agent.username,
                campaigns=agent.campaigns,
                available=True,
                open_conversations=agent.open_conversations + 1,
                max_conversations=agent.max_conversations,
                last_assigned_at=now,
            )
            await events.console(
                self._context, ConsoleUpdate.QUEUE, handoff, offered_to=agent.username
            )

    async def _notify_positions(self, session: AsyncSession, queued: list[Handoff]) -> None:
        """Tell a user their new place when it changed a lot: halved, or they are next."""
        for handoff in queued:
            await session.refresh(handoff)
            if handoff.status not in QUEUED_STATUSES:
                continue
            position = routing.position(queries.waiting_entries(queued), handoff.id)
            if position is None or not routing.worth_telling(handoff.notified_position, position):
                continue
            handoff.notified_position = position
            handoff.notified_at = utcnow()
            await session.commit()
            conversation = await session.get(store.Conversation, handoff.conversation_id)
            assert conversation is not None
            eta = await queries.eta_minutes(
                session, self._context.settings, handoff.campaign, position
            )
            await events.deliver(
                self._context, session, conversation, [messages.position_changed(position, eta)]
            )

    async def _end_wait(
        self,
        session: AsyncSession,
        handoff: Handoff,
        status: Literal[HandoffStatus.ABANDONED, HandoffStatus.EXPIRED],
        now: datetime,
    ) -> None:
        """End a wait under the conversation's lock, and tell the user."""
        conversation = await session.get(store.Conversation, handoff.conversation_id)
        assert conversation is not None
        async with self._context.locks.hold(conversation.id):
            if await end_waiting(self._context, session, handoff, conversation, status, now):
                reply = (
                    messages.left_queue()
                    if status == HandoffStatus.ABANDONED
                    else messages.expired(handoff.campaign)
                )
                await events.deliver(self._context, session, conversation, [reply])
