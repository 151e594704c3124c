"""Routing rules of the handoff queue, as pure functions over plain values (no database, no HTTP).

* Order: priority level first (urgent > high > normal); within a level, whoever has waited longest.
  Waiting never lifts a conversation above a higher level: an urgent one is always taken first.
* Assignment: among the available agents with the campaign's skill and room for one more
  conversation, the least loaded; ties go to the one who has been idle longest.

Used by the ticker (offers), the desk ("tomar siguiente") and queries.py (places in the queue).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.protocol import Priority

PRIORITIES = {Priority.URGENT: 3, Priority.HIGH: 2, Priority.NORMAL: 1}


@dataclass(frozen=True)
class Waiting:
    conversation_id: int
    campaign: str
    priority: Priority
    enqueued_at: datetime


@dataclass(frozen=True)
class Agent:
    username: str
    campaigns: frozenset[str]
    available: bool
    open_conversations: int
    max_conversations: int
    last_assigned_at: datetime | None = None


def queue_order(entries: Iterable[Waiting]) -> list[Waiting]:
    """The queue as agents should take it: level, then waiting time (oldest first), then id."""
    return sorted(
        entries, key=lambda e: (-PRIORITIES[e.priority], e.enqueued_at, e.conversation_id)
    )


def position(entries: Sequence[Waiting], conversation_id: int) -> int | None:
    """1-based place of a conversation in its campaign's queue, None when it is not waiting."""
    target = next((e for e in entries if e.conversation_id == conversation_id), None)
    if target is None:
        return None
    same_campaign = [e for e in entries if e.campaign == target.campaign]
    return [e.conversation_id for e in queue_order(same_campaign)].index(conversation_id) + 1


def pick_agent(agents: Iterable[Agent], campaign: str) -> Agent | None:
    """The agent to offer a conversation of `campaign` to, or None when nobody can take it."""
    candidates = [
        a
        for a in agents
        if a.available and campaign in a.campaigns and a.open_conversations < a.max_conversations
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda a: (
            a.open_conversations,
            a.last_assigned_at is not None,  # never assigned: idle longest
            a.last_assigned_at or datetime.min,
            a.username,
        ),
    )


def worth_telling(told: int | None, position: int | None) -> bool:
    """Whether a user told `told` should hear their new place: when it at least halved, or they
    are next. Small moves are not announced (a message every few seconds is noise)."""
    if told is None or position is None or position >= told:
        return False
    return position == 1 or position <= told // 2


def next_for(agent: Agent, entries: Iterable[Waiting]) -> Waiting | None:
    """What "tomar siguiente" gives `agent`: the first waiting conversation of its campaigns."""
    if not agent.available or agent.open_conversations >= agent.max_conversations:
        return None
    mine = [e for e in entries if e.campaign in agent.campaigns]
    ordered = queue_order(mine)
    return ordered[0] if ordered else None
