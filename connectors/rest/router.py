"""POST /api/messages: one turn, answered synchronously with the bot's messages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from connectors.deps import GatewayDep, require_api_key
from connectors.errors import ApiError
from connectors.gateway import InboundMessage, InvalidMessage
from connectors.rasa_client import BotUnavailable

router = APIRouter(prefix="/api", tags=["rest"])

CHANNEL = "rest"


class MessageIn(BaseModel):
    sender: str = Field(min_length=1, max_length=255, description="The integrator's user id")
    text: str = Field(description="What the person wrote (or a button's payload)")
    message_id: str | None = Field(
        default=None, max_length=255, description="Optional id: a repeated id is a duplicate"
    )
    metadata: dict[str, Any] = Field(default_factory=dict)


class Button(BaseModel):
    title: str
    payload: str


class MessageOut(BaseModel):
    text: str
    buttons: list[Button] = []


class MessagesOut(BaseModel):
    messages: list[MessageOut]


@router.post(
    "/messages",
    response_model=MessagesOut,
    dependencies=[Depends(require_api_key)],
    summary="Send a user's message and get the bot's replies",
    responses={
        400: {"description": "Empty, too long or badly encoded text"},
        401: {"description": "Missing or wrong API key"},
        422: {"description": "Not a JSON body of this shape"},
        503: {"description": "The bot is not available; the message was stored"},
    },
)
async def post_message(body: MessageIn, gateway: GatewayDep) -> MessagesOut:
    inbound = InboundMessage(
        channel=CHANNEL,
        sender=body.sender,
        text=body.text,
        external_id=body.message_id,
        metadata={"integrator": body.metadata} if body.metadata else {},
    )
    try:
        turn = await gateway.handle(inbound)
    except InvalidMessage as exc:
        raise ApiError(400, exc.code, exc.message) from exc
    except BotUnavailable as exc:
        raise ApiError(
            503,
            "bot_unavailable",
            "El asistente no está disponible en este momento. Tu mensaje quedó guardado; "
            "intenta de nuevo en unos minutos.",
        ) from exc
    return MessagesOut(messages=[MessageOut(text=m.text, buttons=m.buttons) for m in turn.replies])


class SentMessage(MessageOut):
    id: int
    author: str = Field(description="bot | agent")
    ts: str


class SentOut(BaseModel):
    messages: list[SentMessage]
    cursor: str = Field(description="Pass it as `after` next time to get only what is new")


@router.get(
    "/messages/{sender}",
    response_model=SentOut,
    dependencies=[Depends(require_api_key)],
    summary="What was sent to a sender since a cursor (bot and agent messages)",
    responses={
        400: {"description": "A cursor that is not one of ours"},
        401: {"description": "Missing or wrong API key"},
        404: {"description": "No conversation with that sender"},
    },
)
async def sent_messages(
    sender: str,
    gateway: GatewayDep,
    after: Annotated[str | None, Query(description="Cursor from a previous answer")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SentOut:
    try:
        cursor = int(after) if after else 0
    except ValueError as exc:
        raise ApiError(400, "invalid_cursor", "El cursor no es válido.") from exc
    if cursor < 0:
        raise ApiError(400, "invalid_cursor", "El cursor no es válido.")
    sent = await gateway.sent_to(CHANNEL, sender, cursor, limit)
    if sent is None:
        raise ApiError(404, "unknown_sender", "No hay conversación con ese remitente.")
    return SentOut(
        messages=[
            SentMessage(
                id=m.id, author=m.author, text=m.text, buttons=m.buttons, ts=m.as_dict()["ts"]
            )
            for m in sent
        ],
        cursor=str(sent[-1].id if sent else cursor),
    )
