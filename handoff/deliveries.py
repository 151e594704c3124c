"""Supervisors' view of the messages that never reached their person.

The gateway's outbox tries each message again with backoff; after the last attempt it is marked
`failed` with the channel's reason (connectors/outbox.py). Supervisors see those here, newest
first, with the person and the text masked (so, like the dashboard that shows them, the view is
not audited), to follow up by other means.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from core import conversations as store
from core.accounts.access import SupervisorUser
from core.errors import error_responses
from core.privacy import mask_text, sender_for_staff
from core.web.deps import SessionDep

router = APIRouter(prefix="/api/handoff", tags=["supervision"], responses=error_responses(401, 403))


class FailedDelivery(BaseModel):
    id: int = Field(description="The message's id")
    conversation_id: int
    channel: str
    sender: str = Field(description="Masked")
    author: str = Field(description="bot | agent")
    text: str = Field(description="Identifiers masked")
    error: str | None = Field(description="Why the channel could not take it")
    attempts: int
    created_at: datetime
    failed_at: datetime | None


@router.get(
    "/deliveries/failed",
    response_model=list[FailedDelivery],
    summary="Messages for people that could not be delivered after every retry",
)
async def failed_deliveries(
    user: SupervisorUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FailedDelivery]:
    rows = await store.failed_deliveries(session, limit)
    return [
        FailedDelivery(
            id=message.id,
            conversation_id=conversation.id,
            channel=conversation.channel,
            sender=sender_for_staff(conversation.channel, conversation.sender),
            author=message.author,
            text=mask_text(message.text),
            error=mask_text(message.error) if message.error else None,
            attempts=message.attempts,
            created_at=message.created_at,
            failed_at=message.done_at,
        )
        for message, conversation in rows
    ]
