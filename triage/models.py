"""Stored triage assessments: who was assessed (the conversation, its channel), the answers, the
outcome and the protocol version that produced it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime, utcnow


class Assessment(Base):
    __tablename__ = "triage_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id"), default=None, index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)  # checked (triage.answers.check)
    level: Mapped[str] = mapped_column(String(16), index=True)  # triage.engine.Level
    disposition: Mapped[str] = mapped_column(String(32))
    rules: Mapped[list[str]] = mapped_column(JSON)  # every rule that fired
    protocol_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
