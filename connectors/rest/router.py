"""POST /api/messages: one turn, answered synchronously with the bot's messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
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
