"""Moves of a queued handoff that several jobs make: take an offer back, end a wait unanswered.

* `withdraw_offer`: the offer goes back to the queue, and the agent is not offered it again —
  declined (desk.py), not accepted in time (ticker.py), or the agent went away (presence.py);
* `end_waiting`: the handoff leaves the queue without an agent — the user left (intake.py, or the
  ticker when their page stayed closed) or nobody answered in time (ticker.py) — and the bot takes
  the conversation back.

Each is a conditional UPDATE: when another process moved the handoff first, nothing happens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core import conversations as store
from handoff import events
from handoff.context import HandoffContext, won
from handoff.events import ConsoleUpdate
from handoff.models import QUEUED_STATUSES, EventKind, Handoff, HandoffStatus
from handoff.queries import seconds_between

WAIT_ENDS = {HandoffStatus.ABANDONED: EventKind.ABANDONED, HandoffStatus.EXPIRED: EventKind.EXPIRED}


async def withdraw_offer(
    context: HandoffContext,
    session: AsyncSession,
    handoff: Handoff,
    agent: str,
    kind: Literal[EventKind.OFFER_EXPIRED, EventKind.OFFER_DECLINED],
    why: str,
) -> None:
    """Back to waiting, `agent` added to those who will not be offered it again."""
    result = await session.execute(
        update(Handoff)
        .where(
            Handoff.id == handoff.id,
            Handoff.status == HandoffStatus.OFFERED,
            Handoff.offered_to == agent,
        )
        .values(
            status=HandoffStatus.WAITING,
            offered_to=None,
            offered_at=None,
            declined_by=[*handoff.declined_by, agent],
        )
        .execution_options(synchronize_session=False)
    )
    if not won(result):
        await session.rollback()
        return
    events.record_for(session, kind, handoff, agent=agent, detail={"why": why})
    await session.commit()
    await session.refresh(handoff)
    await events.console(context, ConsoleUpdate.QUEUE, handoff)


async def end_waiting(
    context: HandoffContext,
    session: AsyncSession,
    handoff: Handoff,
    conversation: store.Conversation,
    status: Literal[HandoffStatus.ABANDONED, HandoffStatus.EXPIRED],
    now: datetime,
) -> bool:
    """abandoned (the user left) or expired (nobody answered): back to the bot. Whether it was
    this call that ended the wait. The caller holds the conversation's lock."""
    result = await session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status.in_(QUEUED_STATUSES))
        .values(status=status, closed_at=now, offered_to=None)
        .execution_options(synchronize_session=False)
    )
    if not won(result):
        await session.rollback()
        return False
    conversation.mode = store.Mode.BOT
    events.record(
        session,
        WAIT_ENDS[status],
        at=now,
        campaign=handoff.campaign,
        conversation_id=conversation.id,
        handoff_id=handoff.id,
        channel=conversation.channel,
        value=seconds_between(handoff.created_at, now),
    )
    await session.commit()
    await session.refresh(handoff)
    await context.bot.resume(conversation.ref, None)
    await events.console(context, ConsoleUpdate.QUEUE, handoff)
    return True
