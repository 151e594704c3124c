"""Read-only questions about the queue: open handoffs, places and waits, agents' load, lists.

Called by intake and the desk (a user's place and estimated wait), the ticker (who can be offered
what), and the agents' API (router.py: `queue`, `mine`, `notes`). Nothing here writes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import conversations as store
from core.accounts.access import can_see
from core.accounts.models import User
from core.db import utcnow
from core.settings import Settings
from handoff import routing
from handoff.models import (
    OPEN_STATUSES,
    QUEUED_STATUSES,
    AgentPresence,
    AgentStatus,
    EventKind,
    Handoff,
    HandoffEvent,
    HandoffNote,
    HandoffStatus,
)


def seconds_between(start: datetime, end: datetime) -> float:
    """Seconds from `start` to `end`, never negative."""
    return max((end - start).total_seconds(), 0.0)


def waiting_entries(handoffs: Iterable[Handoff]) -> list[routing.Waiting]:
    """Queued handoffs as the routing rules see them."""
    return [
        routing.Waiting(
            conversation_id=h.id,
            campaign=h.campaign,
            priority=h.priority,
            enqueued_at=h.enqueued_at,
        )
        for h in handoffs
    ]


async def open_handoff(session: AsyncSession, conversation_id: int) -> Handoff | None:
    result = await session.execute(
        select(Handoff).where(
            Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES)
        )
    )
    return result.scalar_one_or_none()


async def position(session: AsyncSession, handoff: Handoff) -> int | None:
    """1-based place of a handoff in its campaign's queue, None when it is not queued."""
    result = await session.execute(
        select(Handoff).where(
            Handoff.status.in_(QUEUED_STATUSES), Handoff.campaign == handoff.campaign
        )
    )
    return routing.position(waiting_entries(result.scalars()), handoff.id)


async def eta_minutes(
    session: AsyncSession, settings: Settings, campaign: str, position: int
) -> int:
    """Place × recent mean handle time ÷ the conversations the campaign's agents can hold."""
    week_ago = utcnow() - timedelta(days=7)
    mean = (
        await session.execute(
            select(func.avg(HandoffEvent.value)).where(
                HandoffEvent.kind == EventKind.CLOSED,
                HandoffEvent.campaign == campaign,
                HandoffEvent.created_at >= week_ago,
            )
        )
    ).scalar_one()
    handle = float(mean) if mean else settings.handoff_default_handle_seconds
    agents = await available_agents(session, campaign)
    slots = max(1, sum(a.max_conversations for a in agents))
    return max(1, math.ceil(position * handle / slots / 60))


async def load(session: AsyncSession, username: str, exclude: int | None = None) -> int:
    """How many handoffs an agent holds or is offered (but `exclude`)."""
    query = select(func.count()).where(
        ((Handoff.status == HandoffStatus.ASSIGNED) & (Handoff.agent == username))
        | ((Handoff.status == HandoffStatus.OFFERED) & (Handoff.offered_to == username))
    )
    if exclude is not None:
        query = query.where(Handoff.id != exclude)
    return int((await session.execute(query)).scalar_one())


async def agents(session: AsyncSession) -> list[routing.Agent]:
    """Agents who could be offered a conversation now, with their load."""
    rows = await session.execute(
        select(User, AgentPresence)
        .join(AgentPresence, AgentPresence.username == User.username)
        .where(User.role == "agent", User.active.is_(True))
    )
    found = []
    for user, presence in rows.all():
        found.append(
            routing.Agent(
                username=user.username,
                campaigns=frozenset(user.campaigns),
                available=presence.status == AgentStatus.AVAILABLE,
                open_conversations=await load(session, user.username),
                max_conversations=presence.max_conversations,
                last_assigned_at=presence.last_assigned_at,
            )
        )
    return found


async def available_agents(session: AsyncSession, campaign: str) -> list[routing.Agent]:
    return [a for a in await agents(session) if a.available and campaign in a.campaigns]


async def queue(session: AsyncSession, user: User) -> list[tuple[Handoff, store.Conversation, int]]:
    """The waiting conversations this user may see, in queue order, with their place."""
    result = await session.execute(
        select(Handoff, store.Conversation)
        .join(store.Conversation, store.Conversation.id == Handoff.conversation_id)
        .where(Handoff.status.in_(QUEUED_STATUSES))
    )
    rows = [(h, c) for h, c in result.all() if can_see(user, h.campaign)]
    entries = waiting_entries(h for h, _ in rows)
    by_id = {h.id: (h, c) for h, c in rows}
    ordered = routing.queue_order(entries)
    return [
        (*by_id[e.conversation_id], routing.position(entries, e.conversation_id) or 0)
        for e in ordered
    ]


async def mine(session: AsyncSession, user: User) -> list[tuple[Handoff, store.Conversation]]:
    """The handoffs assigned or offered to this user."""
    result = await session.execute(
        select(Handoff, store.Conversation)
        .join(store.Conversation, store.Conversation.id == Handoff.conversation_id)
        .where(
            ((Handoff.status == HandoffStatus.ASSIGNED) & (Handoff.agent == user.username))
            | ((Handoff.status == HandoffStatus.OFFERED) & (Handoff.offered_to == user.username))
        )
        .order_by(Handoff.id)
    )
    return [(h, c) for h, c in result.all()]


async def notes(session: AsyncSession, handoff_id: int) -> list[HandoffNote]:
    result = await session.execute(
        select(HandoffNote).where(HandoffNote.handoff_id == handoff_id).order_by(HandoffNote.id)
    )
    return list(result.scalars())
