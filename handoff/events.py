"""What the handoff tells the world: `handoff_events` rows, `console` updates, messages for users.

* `record` / `record_for` add a row to `handoff_events` (the reporting table, handoff/metrics.py)
  to the caller's transaction;
* `console` publishes on the bus's `console` topic: the agents' and supervisors' pages fetch what
  they show again (router.py streams it as server-sent events);
* `deliver` commits messages for a user to the outbox and wakes the postman: how a user hears of
  what happens outside their own turn (an agent's reply, a new place in the queue).

Called by every job: intake.py, desk.py, presence.py, queueing.py, ticker.py.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import conversations as store
from core.db import utcnow
from core.protocol import Reply
from handoff.context import HandoffContext
from handoff.models import EventKind, Handoff, HandoffEvent


class ConsoleUpdate(StrEnum):
    """The `type` of a `console` message: what the pages should fetch again."""

    QUEUE = "queue"
    CONVERSATION = "conversation"
    PRESENCE = "presence"


def record(
    session: AsyncSession, kind: EventKind, *, at: datetime | None = None, **fields: Any
) -> None:
    """Add an event (now, unless `at`) to the session; the caller commits."""
    session.add(HandoffEvent(kind=kind, created_at=at or utcnow(), **fields))


def record_for(
    session: AsyncSession,
    kind: EventKind,
    handoff: Handoff,
    *,
    at: datetime | None = None,
    **fields: Any,
) -> None:
    """An event of a handoff: its campaign, conversation and id filled in."""
    record(
        session,
        kind,
        at=at,
        campaign=handoff.campaign,
        conversation_id=handoff.conversation_id,
        handoff_id=handoff.id,
        **fields,
    )


async def console(
    context: HandoffContext,
    kind: ConsoleUpdate,
    handoff: Handoff | None = None,
    **extra: Any,
) -> None:
    data = {"type": kind, **extra}
    if handoff is not None:
        data |= {"handoff_id": handoff.id, "campaign": handoff.campaign}
    await context.bus.publish("console", data)


async def deliver(
    context: HandoffContext,
    session: AsyncSession,
    conversation: store.Conversation,
    replies: list[Reply],
    author: store.Author = store.Author.BOT,
) -> list[store.Message]:
    """Commit messages for the user to the outbox and have them delivered."""
    stored = store.queue_outbound(session, conversation.id, replies, author=author)
    await session.commit()
    await context.postman.wake(conversation.id)
    return stored
