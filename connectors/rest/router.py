"""The REST channel: `POST /api/messages` answers with the turn's replies (waiting for them up to
`VENTANILLA_REST_WAIT_SECONDS`, else 202 with a cursor); `GET /api/messages/{sender}` gives what
was sent to a sender since a cursor (agents' replies, queue notices, late answers).

Sending is nothing here: the integrator takes the messages, so a message is delivered once it is
stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from connectors.channel import Channel, InboundMessage
from connectors.deps import GatewayDep
from core.conversations import Message
from core.errors import ApiError, error_responses
from core.ports import ConversationRef
from core.protocol import EmergencyKind
from core.web.api_keys import require_api_key
from core.web.deps import SettingsDep

router = APIRouter(prefix="/api", tags=["rest"], responses=error_responses(401, 503))

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


class Alert(BaseModel):
    kind: EmergencyKind = Field(description="The emergency detected in the person's message")


class ArticleOut(BaseModel):
    id: str
    title: str
    source: str = Field(description="The public reference the article's facts come from")


class MessageOut(BaseModel):
    text: str
    buttons: list[Button] = []
    article: ArticleOut | None = Field(
        default=None, description="The knowledge-base article this message answers from"
    )


class MessagesOut(BaseModel):
    messages: list[MessageOut]
    alert: Alert | None = Field(
        default=None,
        description="Present when the message said an emergency: the replies tell the person to "
        "call 911 (and a crisis line) and a top-priority handoff was opened",
    )
    cursor: str = Field(
        description="The message's id: `GET /api/messages/{sender}?after=<cursor>` gives what "
        "comes after it (with 202: the answer, once it is ready)"
    )


@router.post(
    "/messages",
    response_model=MessagesOut,
    dependencies=[Depends(require_api_key)],
    summary="Send a user's message and get the bot's replies",
    responses={
        202: {
            "model": MessagesOut,
            "description": "Stored, but the answer was not ready in time: fetch it later with "
            "the cursor",
        },
        400: {"description": "Empty, too long or badly encoded text"},
        401: {"description": "Missing or wrong API key"},
        422: {"description": "Not a JSON body of this shape"},
    },
)
async def post_message(
    body: MessageIn, gateway: GatewayDep, settings: SettingsDep
) -> MessagesOut | JSONResponse:
    inbound = InboundMessage(
        channel=CHANNEL,
        sender=body.sender,
        text=body.text,
        external_id=body.message_id,
        metadata={"integrator": body.metadata} if body.metadata else {},
    )
    accepted = await gateway.accept(inbound)
    cursor = str(accepted.message.id)
    replies = await gateway.answer(accepted, timeout=settings.rest_wait_seconds)
    if replies is None:
        return JSONResponse({"messages": [], "cursor": cursor}, status_code=202)
    alert = next((m.alert for m in replies if m.alert), None)
    return MessagesOut(
        messages=[MessageOut(text=m.text, buttons=m.buttons, article=m.article) for m in replies],
        alert=Alert(kind=EmergencyKind(alert)) if alert else None,
        cursor=str(replies[-1].id) if replies else cursor,
    )


class SentMessage(MessageOut):
    id: int
    author: str = Field(description="bot | agent")
    ts: str
    alert: Alert | None = Field(default=None, description="The emergency this message answers")


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
                id=m.id,
                author=m.author,
                text=m.text,
                buttons=m.buttons,
                article=m.article,
                ts=m.as_dict()["ts"],
                alert=Alert(kind=EmergencyKind(m.alert)) if m.alert else None,
            )
            for m in sent
        ],
        cursor=str(sent[-1].id if sent else cursor),
    )


class RestChannel(Channel):
    name = CHANNEL
    label = "API REST"
    router = router
    pulled = True  # the integrator takes the answer or fetches it with the cursor
    slash_intents = True  # its clients' buttons send their payloads as the text

    async def send(self, conversation: ConversationRef, message: Message) -> None:
        return None  # never called: the channel is pulled
