"""Handoff tables: handoffs, the one event table, agents' presence, notes, callbacks.

A handoff is one stay of a conversation in human mode: queued, perhaps offered, taken by an agent,
closed (or abandoned by the user, or expired unanswered). Its `id` is the id of the handoff API
(`/api/handoff/conversations/{id}`). Every step is also written to `handoff_events`, the one table
the dashboard and the reports are computed from (handoff/metrics.py).

Statuses, presence and event kinds are the StrEnums below (priorities: `core.protocol.Priority`):
code names them, the database keeps their plain string values.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime, utcnow
from core.protocol import Priority


class HandoffStatus(StrEnum):
    """Where a handoff stands (`handoffs.status`).

    waiting → offered → assigned → closed; waiting/offered → abandoned | expired; a transfer puts
    an assigned handoff back to waiting (in the new campaign's queue).
    """

    WAITING = "waiting"
    OFFERED = "offered"  # proposed to one agent, who may accept or decline it
    ASSIGNED = "assigned"
    CLOSED = "closed"
    ABANDONED = "abandoned"  # the user left while queued
    EXPIRED = "expired"  # nobody answered within the queue timeout


OPEN_STATUSES = (HandoffStatus.WAITING, HandoffStatus.OFFERED, HandoffStatus.ASSIGNED)
QUEUED_STATUSES = (HandoffStatus.WAITING, HandoffStatus.OFFERED)


class AgentStatus(StrEnum):
    """An agent's presence (`agent_presence.status`): only available agents are offered work."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class EventKind(StrEnum):
    """What a `handoff_events` row records (handoff/README.md, "Event table")."""

    CONVERSATION_STARTED = "conversation_started"
    HANDOFF_UNAVAILABLE = "handoff_unavailable"
    QUEUED = "queued"
    OFFERED = "offered"
    OFFER_EXPIRED = "offer_expired"  # not accepted in time, or the agent went away or offline
    OFFER_DECLINED = "offer_declined"  # the agent turned it down
    ASSIGNED = "assigned"
    FIRST_RESPONSE = "first_response"
    TRANSFERRED = "transferred"
    ESCALATED = "escalated"  # an emergency said while the handoff was open: now urgent
    ABANDONED = "abandoned"
    EXPIRED = "expired"
    CLOSED = "closed"
    CSAT = "csat"
    CALLBACK_REQUESTED = "callback_requested"
    AGENT_STATUS = "agent_status"


class CallbackStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    campaign: Mapped[str] = mapped_column(String(32), index=True)
    priority: Mapped[Priority] = mapped_column(String(16), default=Priority.NORMAL)
    status: Mapped[HandoffStatus] = mapped_column(
        String(16), default=HandoffStatus.WAITING, index=True
    )
    reason: Mapped[str] = mapped_column(String(64), default="request_human")
    summary: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    agent: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    offered_to: Mapped[str | None] = mapped_column(String(64), default=None)
    offered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    declined_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # When it (re-)entered its current queue: a transfer restarts the place, not the clocks.
    enqueued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    disposition: Mapped[str | None] = mapped_column(String(32), default=None)
    csat: Mapped[int | None] = mapped_column(Integer, default=None)
    # What the user was last told about the queue, to tell again only when it changes a lot.
    notified_position: Mapped[int | None] = mapped_column(Integer, default=None)
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Set when the user's last web chat socket closed while queued; cleared when they return.
    user_left_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class HandoffEvent(Base):
    """One row per thing that happened: the reporting table (Chatwoot's reporting_events)."""

    __tablename__ = "handoff_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EventKind] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    campaign: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    conversation_id: Mapped[int | None] = mapped_column(Integer, default=None)
    handoff_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    agent: Mapped[str | None] = mapped_column(String(64), default=None)
    channel: Mapped[str | None] = mapped_column(String(32), default=None)
    value: Mapped[float | None] = mapped_column(Float, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AgentPresence(Base):
    """Whether an agent can be offered conversations now (login → available; logout/away/idle)."""

    __tablename__ = "agent_presence"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[AgentStatus] = mapped_column(String(16), default=AgentStatus.OFFLINE)
    max_conversations: Mapped[int] = mapped_column(Integer, default=3)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class HandoffNote(Base):
    """An agent's internal note on a handoff: never sent to the user."""

    __tablename__ = "handoff_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Callback(Base):
    """A user's request to be called back when nobody could take the conversation."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    campaign: Mapped[str] = mapped_column(String(32), index=True)
    phone: Mapped[str] = mapped_column(String(32))
    preferred_time: Mapped[str] = mapped_column(String(255))
    status: Mapped[CallbackStatus] = mapped_column(String(16), default=CallbackStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
