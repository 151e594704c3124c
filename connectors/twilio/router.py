"""WhatsApp and SMS through Twilio: `POST /webhooks/twilio/whatsapp` and `/webhooks/twilio/sms`.

In: Twilio posts a form; `X-Twilio-Signature` is checked with the `twilio` library's
`RequestValidator` against `PUBLIC_BASE_URL` + the path (403, nothing stored, otherwise). The
message (`models.TwilioMessage`) goes to the gateway, which commits it before the webhook answers
an empty TwiML `<Response/>`: the reply goes out later through Twilio's REST API. A message Twilio
sends again (same `MessageSid`) is kept once.

Buttons have no place on these channels: they go as a numbered list ("Responde 1, 2 o 3") and an
answer of "2" or of an option's words is taken as that button (`connectors.channel.choose`).
Photos, audio, documents and locations get a polite answer (`connectors.media`).

Out: `messages.create_async` of the `twilio` library, against `TWILIO_API_BASE`; a text longer
than 1,600 characters (Twilio's limit for one message) goes in several, cut at a line or a word.
Twilio's 4xx refusals (an invalid number; on WhatsApp, a reply outside the 24-hour window,
error 63016) are final; 429, 5xx and network errors are tried again by the outbox.

Each channel is off unless `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` and its sender
(`TWILIO_WHATSAPP_FROM`, `TWILIO_SMS_FROM`) are set; its webhook then answers 404.
Set-up: `connectors/twilio/README.md`.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import timedelta
from typing import Annotated, Any, ClassVar
from urllib.parse import parse_qsl

import aiohttp
import httpx
from fastapi import APIRouter, Header, Request, Response
from pydantic import ValidationError
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from connectors import media
from connectors.channel import (
    Channel,
    DeliveryError,
    InboundMessage,
    InvalidMessage,
    Runtime,
    choose,
    numbered_options,
    send_parts,
    split_text,
)
from connectors.deps import GatewayDep
from connectors.gateway import Gateway
from connectors.media import MediaUnavailable
from connectors.twilio.models import TwilioMessage
from core.conversations import Message
from core.errors import ApiError
from core.ports import ConversationRef

log = logging.getLogger(__name__)
# The library logs whole requests (numbers, texts) at INFO: personal data stays out of the logs.
logging.getLogger("twilio").setLevel(logging.WARNING)

router = APIRouter(tags=["twilio"])

MAX_TEXT = 1600  # Twilio: the longest Body of one message
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def _webhook(
    request: Request, gateway: Gateway, name: str, signature: str | None
) -> Response:
    channel: TwilioChannel = request.app.state.channels[name]
    channel.require_on()
    body = (await request.body()).decode("utf-8", errors="replace")
    params = dict(parse_qsl(body, keep_blank_values=True))
    channel.verify(request, params, signature)
    try:
        message = TwilioMessage.model_validate(params)
    except ValidationError as exc:
        raise ApiError(400, "invalid_message", "El mensaje de Twilio no es válido.") from exc
    inbound = await channel.to_inbound(gateway, message)
    try:
        await gateway.accept(inbound)
    except InvalidMessage as exc:  # empty, too long, …: told why, nothing stored
        gateway.spawn(channel.say(message.sender, exc.message))
    return Response(EMPTY_TWIML, media_type="application/xml")


_RESPONSES: dict[int | str, dict[str, str]] = {
    200: {"description": "Taken (empty TwiML: the reply goes through the REST API)"},
    400: {"description": "Not a Twilio message"},
    403: {"description": "Missing or wrong X-Twilio-Signature"},
    404: {"description": "The channel is not configured"},
}


@router.post("/webhooks/twilio/whatsapp", summary="Twilio's WhatsApp webhook", responses=_RESPONSES)
async def whatsapp_webhook(
    request: Request,
    gateway: GatewayDep,
    x_twilio_signature: Annotated[str | None, Header()] = None,
) -> Response:
    return await _webhook(request, gateway, "whatsapp", x_twilio_signature)


@router.post("/webhooks/twilio/sms", summary="Twilio's SMS webhook", responses=_RESPONSES)
async def sms_webhook(
    request: Request,
    gateway: GatewayDep,
    x_twilio_signature: Annotated[str | None, Header()] = None,
) -> Response:
    return await _webhook(request, gateway, "sms", x_twilio_signature)


class TwilioChannel(Channel):
    """What WhatsApp and SMS through Twilio share; each names its sender setting."""

    max_text_chars = MAX_TEXT
    sender_setting: ClassVar[str]
    sender_env: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self._client: Client | None = None
        self._validator: RequestValidator | None = None
        self._from: str | None = None
        self._public_base_url = ""
        self._template: str | None = None
        self._api_base = ""
        self._auth: tuple[str, str] | None = None

    async def start(self, runtime: Runtime) -> None:
        await super().start(runtime)
        settings = runtime.settings
        sender = getattr(settings, self.sender_setting)
        missing = [
            name
            for name, value in (
                ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
                ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
                (self.sender_env, sender),
            )
            if value is None
        ]
        if missing:
            log.info("%s off (%s not set): its webhook answers 404", self.label, ", ".join(missing))
            return
        assert settings.twilio_auth_token is not None
        token = settings.twilio_auth_token.get_secret_value()
        self._validator = RequestValidator(token)
        self._client = Client(
            settings.twilio_account_sid, token, http_client=AsyncTwilioHttpClient(timeout=10)
        )
        self._client.api.base_url = settings.twilio_api_base
        self._api_base = settings.twilio_api_base
        self._auth = (settings.twilio_account_sid, token)
        self._from = sender
        self._public_base_url = settings.public_base_url or ""
        self._template = settings.twilio_whatsapp_template if self.name == "whatsapp" else None
        log.info("%s on: webhook %s/webhooks/twilio/%s", self.label, self._public_base_url,
                 self.name)  # fmt: skip

    async def stop(self) -> None:
        if self._client is not None:
            http = self._client.http_client
            if isinstance(http, AsyncTwilioHttpClient):
                with contextlib.suppress(Exception):
                    await http.close()

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def template(self, text: str) -> dict[str, Any] | None:
        if self._template is None:
            return None
        return {"name": self._template, "variables": {"1": text}}

    async def fetch_media(self, where: dict[str, Any], max_bytes: int) -> tuple[bytes, str]:
        """A voice note from its MediaUrl, with the account's credentials: only from Twilio's
        API (`TWILIO_API_BASE`), so they are never sent elsewhere."""
        url = str(where.get("url") or "")
        if self._auth is None or not url.startswith(f"{self._api_base}/"):
            raise MediaUnavailable("la grabación no está en la API de Twilio")
        async with httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=5.0)) as client:
            return await media.download(client, url, max_bytes, auth=self._auth)

    def require_on(self) -> None:
        if self._client is None:
            raise ApiError(404, "channel_off", f"El canal de {self.label} no está configurado.")

    def verify(self, request: Request, params: dict[str, str], signature: str | None) -> None:
        """403 unless Twilio signed these parameters for our public URL of this webhook."""
        assert self._validator is not None
        url = f"{self._public_base_url}{request.url.path}"
        if request.url.query:
            url = f"{url}?{request.url.query}"
        if not signature or not self._validator.validate(url, params, signature):
            raise ApiError(403, "forbidden", "Firma de Twilio ausente o incorrecta.")

    async def to_inbound(self, gateway: Gateway, message: TwilioMessage) -> InboundMessage:
        sender, sid = message.sender, message.message_sid
        kind = message.media_kind()
        if kind is not None:
            text, payload = media.inbound(kind)
            where = None
            if kind == media.Media.AUDIO and message.media_url:
                where = {"url": message.media_url, "content_type": message.media_type}
            return InboundMessage(
                self.name, sender, text, payload=payload, external_id=sid, media=where
            )
        if message.button_payload:
            title = message.button_text or message.body or message.button_payload
            return InboundMessage(
                self.name, sender, title, payload=message.button_payload, external_id=sid
            )
        chosen = choose(message.body, await gateway.last_buttons(self.name, sender))
        payload = chosen["payload"] if chosen is not None else None
        return InboundMessage(self.name, sender, message.body, payload=payload, external_id=sid)

    async def send(self, conversation: ConversationRef, message: Message) -> None:
        if self._client is None:
            raise DeliveryError(f"el canal de {self.label} no está configurado", retry=False)
        if message.template:  # outside the window: the approved template, its variables
            await self._create(
                conversation.sender,
                content_sid=message.template["name"],
                content_variables=json.dumps(message.template["variables"], ensure_ascii=False),
            )
            return
        text = numbered_options(message.text, list(message.buttons or []))

        async def send_one(_: int, part: str) -> None:
            await self._create(conversation.sender, body=part)

        await send_parts(message, split_text(text, self.max_text_chars), send_one)

    async def _create(self, to: str, **content: str) -> None:
        assert self._client is not None
        try:
            await self._client.messages.create_async(to=to, from_=self._from, **content)
        except TwilioRestException as exc:
            retry = exc.status == 429 or exc.status >= 500
            reason = f"Twilio {exc.status} (código {exc.code}): {exc.msg}"
            raise DeliveryError(reason[:250], retry=retry) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryError(f"Twilio no respondió: {type(exc).__name__}") from exc

    async def say(self, to: str, text: str) -> None:
        """A message that is not stored (the reason a message was refused)."""
        try:
            await self._create(to, body=text)
        except DeliveryError as exc:
            log.warning("%s: could not tell a sender why: %s", self.label, exc.reason)


class WhatsAppChannel(TwilioChannel):
    name = "whatsapp"
    label = "WhatsApp"
    window = timedelta(hours=24)  # after it, only approved templates (TWILIO_WHATSAPP_TEMPLATE)
    router = router  # both webhooks, shared with SMS (the app mounts a router once)
    sender_setting = "twilio_whatsapp_from"
    sender_env = "TWILIO_WHATSAPP_FROM"


class SmsChannel(TwilioChannel):
    name = "sms"
    label = "SMS"
    sms = True
    router = router
    sender_setting = "twilio_sms_from"
    sender_env = "TWILIO_SMS_FROM"
