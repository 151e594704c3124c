"""`POST /api/proactive/messages`: a message the institute starts, to a known person on their
channel (appointment reminders, campaign notices), with the integrators' API key.

It is committed to the outbox and delivered like any reply: in order with the conversation's
other messages, with retries, a final failure recorded with its reason. Where the channel has a
customer-service window (WhatsApp and Messenger: 24 hours after the person's last message), a
notice inside the window goes as text; outside it, only as the channel's approved template
(WhatsApp: `TWILIO_WHATSAPP_TEMPLATE`, the notice's text as its variable), and without one it is
refused with 409 and nothing is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from connectors.channel import Channel
from connectors.deps import GatewayDep
from core.errors import ApiError, error_responses
from core.web.api_keys import require_api_key

router = APIRouter(prefix="/api/proactive", tags=["proactive"], responses=error_responses(401, 503))


class NoticeIn(BaseModel):
    channel: str = Field(description="A channel code of GET /api/channels, e.g. whatsapp")
    recipient: str = Field(
        min_length=1, max_length=255, description="The person as the channel knows them"
    )
    text: str = Field(description="What to say")


class NoticeOut(BaseModel):
    id: int = Field(description="The stored message")
    status: str = Field(description="pending: delivery follows")
    template: str | None = Field(
        default=None, description="The approved template it goes as, outside the window"
    )


def _channel(request: Request, name: str) -> Channel:
    channel = request.app.state.channels.get(name)
    if channel is None:
        raise ApiError(404, "unknown_channel", f"No existe el canal «{name}».")
    if not channel.enabled:
        raise ApiError(409, "channel_off", f"El canal de {channel.label} no está configurado.")
    return channel


@router.post(
    "/messages",
    status_code=202,
    response_model=NoticeOut,
    dependencies=[Depends(require_api_key)],
    summary="Send a message a person did not ask for (reminder, notice) on their channel",
    responses={
        400: {"description": "Empty or too long text"},
        401: {"description": "Missing or wrong API key"},
        404: {"description": "Unknown channel"},
        409: {"description": "The channel is off, or outside its window without a template"},
    },
)
async def send_notice(body: NoticeIn, request: Request, gateway: GatewayDep) -> NoticeOut:
    channel = _channel(request, body.channel)
    template = None
    if channel.window is not None:
        heard = await gateway.last_heard(channel.name, body.recipient)
        inside = heard is not None and datetime.now(UTC) - heard < channel.window
        if not inside:
            template = channel.template(body.text)
            if template is None:
                hours = int(channel.window.total_seconds() // 3600)
                raise ApiError(
                    409,
                    "outside_window",
                    f"Han pasado más de {hours} horas desde el último mensaje de esa persona en "
                    f"{channel.label}: solo se puede escribirle con una plantilla aprobada, y no "
                    "hay una configurada.",
                )
    message = await gateway.notify(channel.name, body.recipient, body.text, template)
    return NoticeOut(
        id=message.id, status=message.status, template=template["name"] if template else None
    )
