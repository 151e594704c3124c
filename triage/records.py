"""Storing an assessment: the conversation (by the key Rasa knows it by), its channel, the checked
answers and the outcome. Its own database session, like the knowledge base's writes from the action
server: the action server has no app around it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.conversations import Conversation
from core.db import create_engine, session_factory
from core.settings import Settings, get_settings
from triage.engine import Outcome
from triage.models import Assessment

UNKNOWN_CHANNEL = "desconocido"


async def record(
    answers: dict[str, Any],
    outcome: Outcome,
    conversation_key: str | None,
    channel: str | None = None,
    settings: Settings | None = None,
) -> int:
    """Store one assessment and return its id. The channel is the message's, else the
    conversation's; a key with no conversation (a Rasa shell, a test) stores none."""
    settings = settings or get_settings()
    assert settings.database_url
    # One engine per assessment: they are rare, and an engine kept across calls would be bound
    # to the event loop of the first one.
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            conversation = (
                await session.scalar(
                    select(Conversation).where(Conversation.key == conversation_key)
                )
                if conversation_key
                else None
            )
            row = Assessment(
                conversation_id=conversation.id if conversation else None,
                channel=(channel or (conversation.channel if conversation else UNKNOWN_CHANNEL))[
                    :32
                ],
                answers=answers,
                level=str(outcome.level),
                disposition=outcome.disposition,
                rules=list(outcome.rules),
                protocol_version=outcome.protocol_version,
            )
            session.add(row)
            await session.commit()
            return row.id
    finally:
        await engine.dispose()
