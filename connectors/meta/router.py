"""Messenger and Instagram through Meta's webhooks: `GET /webhooks/meta` (the subscription
check) and `POST /webhooks/meta` (batched deliveries), and the Send API out.

In: `X-Hub-Signature-256` must be `sha256=` + the HMAC-SHA256 of the raw body with
`META_APP_SECRET`, compared in constant time (403, nothing stored, otherwise). Every messaging
event of every entry is handed to the gateway (`object` "page" → Messenger, "instagram" →
Instagram); the page's own echoes, reads and deliveries are not turns. A message Meta delivers
again (same `mid`) is kept once. The webhook answers 200 once all are committed.

Out: `POST {META_GRAPH_BASE}/v21.0/me/messages` with the Page token (httpx: Meta publishes no
Python SDK for it). Buttons become quick replies (at most 13, titles cut at 20 characters, the
full titles listed in the text when one is cut); texts are split at 2,000 characters on
Messenger and 1,000 on Instagram. Meta's errors: a 5xx or a rate limit is tried again; the rest
(the person cannot be reached, outside the messaging window) is final.

Off unless `META_APP_SECRET`, `META_VERIFY_TOKEN` and `META_PAGE_TOKEN` are set: the webhook then
answers 404. Set-up: `connectors/meta/README.md`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Annotated, Any, ClassVar

import httpx
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import SecretStr, ValidationError

from connectors import media
from connectors.channel import (
    Channel,
    DeliveryError,
    InboundMessage,
    InvalidMessage,
    Runtime,
    numbered_options,
    send_parts,
    split_text,
)
from connectors.deps import GatewayDep
from connectors.media import MediaUnavailable
from connectors.meta.models import Delivery, MessagingEvent
from core.conversations import Message
from core.errors import ApiError
from core.ports import ConversationRef
from core.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["meta"])

GRAPH_VERSION = "v21.0"
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
PRODUCTS = {"page": "messenger", "instagram": "instagram"}
# Graph error codes worth trying again: temporary, or a rate limit.
RETRY_CODES = {1, 2, 4, 17, 32, 341, 613}


def signature_of(secret: bytes, body: bytes) -> str:
    """The X-Hub-Signature-256 Meta sends with `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _state(request: Request) -> MetaState:
    """Messenger's and Instagram's state are alike: the secrets are the app's."""
    channel: MetaChannel = request.app.state.channels["messenger"]
    state = channel.state
    if state is None or not state.on:
        raise ApiError(404, "channel_off", "Los canales de Meta no están configurados.")
    return state


@router.get(
    "/webhooks/meta",
    summary="Meta's subscription check",
    response_class=PlainTextResponse,
    responses={403: {"description": "Wrong verify token"}, 404: {"description": "Off"}},
)
async def verify_subscription(
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> str:
    state = _state(request)
    if mode != "subscribe" or not state.verify_token_matches(token) or challenge is None:
        raise ApiError(403, "forbidden", "Token de verificación de Meta incorrecto.")
    return challenge


@router.post(
    "/webhooks/meta",
    summary="Meta's webhook: Messenger and Instagram messages, in batches",
    responses={
        200: {"description": "Every event taken (or ignored: echoes, reads, deliveries)"},
        400: {"description": "Not a Meta delivery"},
        403: {"description": "Missing or wrong X-Hub-Signature-256"},
        404: {"description": "The Meta channels are not configured"},
    },
)
async def meta_webhook(
    request: Request,
    gateway: GatewayDep,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    state = _state(request)
    body = await request.body()
    state.verify(body, x_hub_signature_256)
    try:
        delivery = Delivery.model_validate_json(body)
    except ValidationError as exc:
        raise ApiError(400, "invalid_delivery", "La entrega de Meta no es válida.") from exc
    name = PRODUCTS.get(delivery.object)
    if name is None:
        return {"ok": True, "taken": 0}
    channel: MetaChannel = request.app.state.channels[name]
    taken = 0
    for entry in delivery.entry:
        for event in entry.messaging:
            inbound = channel.to_inbound(event)
            if inbound is None:
                continue
            try:
                await gateway.accept(inbound)
                taken += 1
            except InvalidMessage as exc:  # told why; the batch's other events go on
                gateway.spawn(channel.say(inbound.sender, exc.message))
    return {"ok": True, "taken": taken}


class MetaState:
    """What Messenger and Instagram share: the app secret, the verify token, one HTTP client."""

    def __init__(self, settings: Settings) -> None:
        self.on = all(
            value is not None
            for value in (settings.meta_app_secret, settings.meta_verify_token,
                          settings.meta_page_token)
        )  # fmt: skip
        self._secret = _plain(settings.meta_app_secret).encode()
        self._verify = _plain(settings.meta_verify_token)
        self._page_token = _plain(settings.meta_page_token)
        self._url = f"{settings.meta_graph_base}/{GRAPH_VERSION}/me/messages"
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))

    def verify_token_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self._verify.encode())

    def verify(self, body: bytes, presented: str | None) -> None:
        expected = signature_of(self._secret, body)
        if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
            raise ApiError(403, "forbidden", "Firma de Meta ausente o incorrecta.")

    async def send(self, recipient: str, message: dict[str, Any]) -> None:
        """One Send API call; DeliveryError with Meta's reason when it fails."""
        try:
            response = await self.client.post(
                self._url,
                params={"access_token": self._page_token},
                json={
                    "recipient": {"id": recipient},
                    "messaging_type": "RESPONSE",
                    "message": message,
                },
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Meta no respondió: {type(exc).__name__}") from exc
        if response.status_code < 400:
            return
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        code = error.get("code")
        reason = f"Meta {response.status_code} (código {code}): {error.get('message', '')}"
        retry = response.status_code >= 500 or response.status_code == 429 or code in RETRY_CODES
        raise DeliveryError(reason[:250], retry=retry)


def _plain(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret is not None else ""


def quick_replies(message: Message) -> tuple[str, list[dict[str, str]]]:
    """The text and the quick replies for a message's buttons (Meta allows 13, titles of 20
    characters: when one is cut, the text lists them whole)."""
    buttons = list(message.buttons or [])[:MAX_QUICK_REPLIES]
    cut = any(len(b["title"]) > MAX_QUICK_REPLY_TITLE for b in buttons)
    text = numbered_options(message.text, buttons) if cut else message.text
    replies = []
    for i, button in enumerate(buttons, start=1):
        title = button["title"]
        if cut:
            title = f"{i}. {title}"
        if len(title) > MAX_QUICK_REPLY_TITLE:
            title = title[: MAX_QUICK_REPLY_TITLE - 1] + "…"
        replies.append({"content_type": "text", "title": title, "payload": button["payload"]})
    return text, replies


class MetaChannel(Channel):
    router = router
    # Standard messaging: 24 hours after the person's last message; message tags (which would
    # allow more) are not modelled, so a notice outside the window is refused.
    window = timedelta(hours=24)
    product: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self._state: MetaState | None = None

    @property
    def state(self) -> MetaState | None:
        return self._state

    @property
    def enabled(self) -> bool:
        return self._state is not None and self._state.on

    async def start(self, runtime: Runtime) -> None:
        await super().start(runtime)
        self._state = MetaState(runtime.settings)
        if self._state.on:
            log.info("%s on: webhook %s/webhooks/meta", self.label,
                     runtime.settings.public_base_url)  # fmt: skip
        else:
            log.info("%s off (META_APP_SECRET, META_VERIFY_TOKEN and META_PAGE_TOKEN needed): "
                     "/webhooks/meta answers 404", self.label)  # fmt: skip

    async def stop(self) -> None:
        if self._state is not None and not self._state.client.is_closed:
            await self._state.client.aclose()

    def to_inbound(self, event: MessagingEvent) -> InboundMessage | None:
        sender = event.sender.id
        if event.postback is not None:
            mid = event.postback.mid or f"postback:{sender}:{event.timestamp}"
            title = event.postback.title or event.postback.payload
            return InboundMessage(
                self.name, sender, title, payload=event.postback.payload, external_id=mid
            )
        message = event.message
        if message is None or message.is_echo:
            return None
        if message.quick_reply is not None:
            return InboundMessage(
                self.name, sender, message.text or message.quick_reply.payload,
                payload=message.quick_reply.payload, external_id=message.mid,
            )  # fmt: skip
        kind = message.media_kind()
        if kind is not None:
            text, payload = media.inbound(kind)
            url = (message.attachments[0].payload or {}).get("url")
            where = {"url": url} if kind == media.Media.AUDIO and url else None
            return InboundMessage(
                self.name, sender, text, payload=payload, external_id=message.mid, media=where
            )
        return InboundMessage(self.name, sender, message.text or "", external_id=message.mid)

    async def fetch_media(self, where: dict[str, Any], max_bytes: int) -> tuple[bytes, str]:
        """A voice note from the attachment's URL (Meta's CDN: no token is sent with it)."""
        if self._state is None or not self._state.on:
            raise MediaUnavailable(f"el canal de {self.label} no está configurado")
        return await media.download(self._state.client, str(where.get("url")), max_bytes)

    async def send(self, conversation: ConversationRef, message: Message) -> None:
        if self._state is None or not self._state.on:
            raise DeliveryError(f"el canal de {self.label} no está configurado", retry=False)
        state = self._state
        text, replies = quick_replies(message)
        parts = split_text(text, self.max_text_chars)

        async def send_one(n: int, part: str) -> None:
            body: dict[str, Any] = {"text": part}
            if replies and n == len(parts) - 1:
                body["quick_replies"] = replies
            await state.send(conversation.sender, body)

        await send_parts(message, parts, send_one)

    async def say(self, recipient: str, text: str) -> None:
        """A message that is not stored (the reason a message was refused)."""
        if self._state is None:
            return
        try:
            await self._state.send(recipient, {"text": text})
        except DeliveryError as exc:
            log.warning("%s: could not tell a sender why: %s", self.label, exc.reason)


class MessengerChannel(MetaChannel):
    name = "messenger"
    label = "Messenger"
    max_text_chars = 2000


class InstagramChannel(MetaChannel):
    name = "instagram"
    label = "Instagram"
    max_text_chars = 1000
