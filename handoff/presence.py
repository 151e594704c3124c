"""Who is there: agents' presence (available, away, offline) and queued users who left.

* Agents are available from login to logout (`on_account`, the accounts' listener wired by
  `HandoffService.on_account`), or as they say (`PUT /api/handoff/me/status`, router.py); the
  ticker marks idle ones away (`change_status`). Every change is an `agent_status` event, and an
  agent who is no longer available loses their pending offers at once.
* Any API call of an agent counts as activity (`seen`).
* The gateway says when a queued user's last web chat socket closed and when they came back
  (`user_left` / `user_returned`, through `core.ports.HumanDesk`); the ticker records users gone
  long enough as abandoned.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import conversations as store
from core.accounts.models import User
from core.db import utcnow
from core.ports import ConversationRef
from core.settings import Settings
from handoff import events
from handoff.context import HandoffContext, Ticks
from handoff.events import ConsoleUpdate
from handoff.models import (
    QUEUED_STATUSES,
    AgentPresence,
    AgentStatus,
    EventKind,
    Handoff,
    HandoffStatus,
)
from handoff.queueing import withdraw_offer

SEEN_EVERY = timedelta(seconds=10)  # an agent's activity is written at most this often


async def presence_row(settings: Settings, session: AsyncSession, username: str) -> AgentPresence:
    """An agent's presence row, created offline (with the default capacity) on first use."""
    presence = await session.get(AgentPresence, username)
    if presence is None:
        presence = AgentPresence(
            username=username,
            status=AgentStatus.OFFLINE,
            max_conversations=settings.handoff_max_conversations,
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


async def change_status(
    context: HandoffContext, username: str, status: AgentStatus, reason: str
) -> bool:
    """Set an agent's presence (and their last activity); whether the status changed. Offers to
    an agent who is not there go back to the queue at once."""
    async with context.sessions() as session:
        presence = await presence_row(context.settings, session, username)
        user = (
            await session.execute(select(User).where(User.username == username))
        ).scalar_one_or_none()
        now = utcnow()
        presence.last_seen_at = now
        if presence.status == status:
            await session.commit()
            return False
        presence.status = status
        presence.changed_at = now
        events.record(
            session,
            EventKind.AGENT_STATUS,
            at=now,
            agent=username,
            detail={
                "status": status,
                "reason": reason,
                "campaigns": list(user.campaigns) if user else [],
            },
        )
        if status != AgentStatus.AVAILABLE:
            result = await session.execute(
                select(Handoff).where(
                    Handoff.status == HandoffStatus.OFFERED, Handoff.offered_to == username
                )
            )
            for handoff in result.scalars():
                await withdraw_offer(
                    context, session, handoff, username, EventKind.OFFER_EXPIRED, why=status
                )
        campaigns = list(user.campaigns) if user else []
        await session.commit()
    # For the staff of the agent's campaigns only (the event stream filters on `campaigns`).
    await events.console(context, ConsoleUpdate.PRESENCE, agent=username, campaigns=campaigns)
    return True


class Presence:
    def __init__(self, context: HandoffContext, ticks: Ticks) -> None:
        self._context = context
        self._ticks = ticks
        self._seen: dict[str, datetime] = {}

    async def on_account(self, event: str, user: User) -> None:
        """Listener of sign-ins: an agent is available from login until logout."""
        if user.role != "agent":
            return
        if event == "login":
            await self.set_status(user.username, AgentStatus.AVAILABLE, reason="login")
        elif event == "logout":
            await self.set_status(user.username, AgentStatus.OFFLINE, reason="logout")
        elif event == "seen":
            await self.seen(user)

    async def set_status(self, username: str, status: AgentStatus, reason: str = "manual") -> None:
        """An agent's presence; an agent who became available is offered waiting users now."""
        changed = await change_status(self._context, username, status, reason)
        if changed and status == AgentStatus.AVAILABLE:
            await self._ticks.tick_now()

    async def seen(self, user: User) -> None:
        """Activity of an agent (any API call): keeps them from being marked idle."""
        now = utcnow()
        last = self._seen.get(user.username)
        if user.role != "agent" or (last is not None and (now - last) < SEEN_EVERY):
            return
        self._seen[user.username] = now
        async with self._context.sessions() as session:
            await session.execute(
                update(AgentPresence)
                .where(AgentPresence.username == user.username)
                .values(last_seen_at=utcnow())
            )
            await session.commit()

    async def presence_of(self, session: AsyncSession, username: str) -> AgentPresence:
        presence = await presence_row(self._context.settings, session, username)
        await session.commit()
        return presence

    async def user_left(self, conversation: ConversationRef) -> None:
        await self._set_user_left(conversation, utcnow())

    async def user_returned(self, conversation: ConversationRef) -> None:
        await self._set_user_left(conversation, None)

    async def _set_user_left(self, ref: ConversationRef, when: datetime | None) -> None:
        async with self._context.sessions() as session:
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
