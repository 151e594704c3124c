"""The Telegram channel: `POST /webhooks/telegram` (a bot's webhook) in, the Bot API out.

In: the `X-Telegram-Bot-Api-Secret-Token` header must match `TELEGRAM_SECRET_TOKEN` (403, nothing
stored, otherwise); the body is parsed with `python-telegram-bot`; `updates.to_inbound` says what
turn it is; the gateway commits it to the inbox and the webhook answers 200 at once (Telegram
waits for nothing else, and sends an update again until it gets a 2xx: the gateway keeps one).

Out: each stored message goes through `Bot.send_message` (texts over 4,096 characters in several
messages, cut at a line or a word; the buttons as an inline keyboard under the last one). A
refusal (blocked bot, unknown chat) is final; a time-out or a 5xx is tried again by the outbox.

Off unless both `TELEGRAM_BOT_TOKEN` and `TELEGRAM_SECRET_TOKEN` are set: the webhook then
answers 404. Set-up: `connectors/telegram/README.md`.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.request import HTTPXRequest

from connectors.channel import (
    Channel,
    DeliveryError,
    InboundMessage,
    InvalidMessage,
    Runtime,
    send_parts,
    split_text,
)
from connectors.deps import GatewayDep
from connectors.media import MediaUnavailable
from connectors.telegram.updates import CHANNEL, ButtonPress, callback_data, to_inbound
from core.conversations import Message
from core.errors import ApiError
from core.ports import ConversationRef
from core.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["telegram"])

MAX_TEXT = 4096  # Bot API: sendMessage text, after entities parsing
EXPIRED_BUTTON = "Esa opción ya no está disponible. Escríbeme tu pregunta, por favor."


def make_bot(settings: Settings) -> Bot:
    """A Bot for the configured token, talking to `TELEGRAM_API_BASE`."""
    assert settings.telegram_bot_token is not None
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{settings.telegram_api_base}/bot",
        base_file_url=f"{settings.telegram_api_base}/file/bot",
        request=HTTPXRequest(connection_pool_size=32, read_timeout=10.0, connect_timeout=5.0),
    )


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    """The message's buttons, one per row; each carries the message's id and its index (the
    payload itself may be longer than the 64 bytes Telegram allows)."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(button["title"], callback_data=callback_data(message.id, i))]
            for i, button in enumerate(message.buttons)
        ]
    )


async def set_webhook(settings: Settings) -> str:
    """Point Telegram at this gateway's webhook, with the secret token; the URL set."""
    assert settings.telegram_secret_token is not None
    url = f"{settings.public_base_url}/webhooks/telegram"
    async with make_bot(settings) as bot:
        await bot.set_webhook(
            url,
            secret_token=settings.telegram_secret_token.get_secret_value(),
            allowed_updates=["message", "callback_query"],
        )
    return url


@router.post(
    "/webhooks/telegram",
    summary="Telegram's webhook: messages and button presses",
    responses={
        200: {"description": "Taken (or ignored: an edited message, a member update)"},
        400: {"description": "Not an update"},
        403: {"description": "Missing or wrong X-Telegram-Bot-Api-Secret-Token"},
        404: {"description": "The Telegram channel is not configured"},
    },
)
async def telegram_webhook(
    request: Request,
    gateway: GatewayDep,
    x_telegram_bot_api_secret_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    channel: TelegramChannel = request.app.state.channels[CHANNEL]
    bot = channel.bot_or_404()
    channel.verify(x_telegram_bot_api_secret_token)
    try:
        update = Update.de_json(json.loads(await request.body()), bot)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ApiError(400, "invalid_update", "La actualización de Telegram no es válida.") from exc
    if update is None:
        raise ApiError(400, "invalid_update", "La actualización de Telegram no es válida.")
    turn = to_inbound(update)
    if turn is None:
        return {"ok": True, "ignored": True}
    if isinstance(turn, ButtonPress):
        gateway.spawn(channel.answer_callback(turn.callback_id))
        inbound = await _pressed(gateway, turn)
        if inbound is None:
            gateway.spawn(channel.say(turn.chat_id, EXPIRED_BUTTON))
            return {"ok": True, "ignored": True}
    else:
        inbound = turn
    try:
        await gateway.accept(inbound)
    except InvalidMessage as exc:  # too long, …: told why, nothing stored
        gateway.spawn(channel.say(int(inbound.sender), exc.message))
        return {"ok": True, "refused": exc.code}
    return {"ok": True}


async def _pressed(gateway: Any, press: ButtonPress) -> InboundMessage | None:
    if press.message_id is None:
        return None
    sender = str(press.chat_id)
    button = await gateway.offered_button(CHANNEL, sender, press.message_id, press.index)
    if button is None:
        return None
    return InboundMessage(
        CHANNEL,
        sender,
        button["title"],
        payload=button["payload"],
        external_id=f"update:{press.update_id}",
    )


class TelegramChannel(Channel):
    name = CHANNEL
    label = "Telegram"
    max_text_chars = MAX_TEXT
    router = router

    def __init__(self) -> None:
        super().__init__()
        self._bot: Bot | None = None
        self._secret: bytes | None = None

    async def start(self, runtime: Runtime) -> None:
        await super().start(runtime)
        settings = runtime.settings
        missing = [
            name
            for name, value in (
                ("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token),
                ("TELEGRAM_SECRET_TOKEN", settings.telegram_secret_token),
            )
            if value is None
        ]
        if missing:
            log.info("Telegram off (%s not set): its webhook answers 404", ", ".join(missing))
            return
        assert settings.telegram_secret_token is not None
        self._secret = settings.telegram_secret_token.get_secret_value().encode()
        self._bot = make_bot(settings)
        log.info("Telegram on: webhook %s/webhooks/telegram", settings.public_base_url)

    async def stop(self) -> None:
        if self._bot is not None:
            with contextlib.suppress(Exception):
                await self._bot.shutdown()

    @property
    def enabled(self) -> bool:
        return self._bot is not None

    def bot_or_404(self) -> Bot:
        if self._bot is None:
            raise ApiError(404, "channel_off", "El canal de Telegram no está configurado.")
        return self._bot

    def verify(self, presented: str | None) -> None:
        """403 unless the secret token Telegram sends with every update is ours."""
        assert self._secret is not None
        if presented is None or not hmac.compare_digest(presented.encode(), self._secret):
            raise ApiError(403, "forbidden", "Token secreto de Telegram ausente o incorrecto.")

    async def send(self, conversation: ConversationRef, message: Message) -> None:
        if self._bot is None:
            raise DeliveryError("el canal de Telegram no está configurado", retry=False)
        bot = self._bot
        parts = split_text(message.text, self.max_text_chars)
        markup = keyboard(message)

        async def send_one(n: int, part: str) -> None:
            try:
                await bot.send_message(
                    chat_id=int(conversation.sender),
                    text=part,
                    reply_markup=markup if n == len(parts) - 1 else None,
                )
            except (Forbidden, BadRequest) as exc:  # blocked, chat not found, …: final
                raise DeliveryError(f"Telegram lo rechazó: {exc.message}", retry=False) from exc
            except TelegramError as exc:  # time-out, 5xx, flood control: try again later
                raise DeliveryError(f"Telegram no lo recibió: {exc.message}") from exc

        await send_parts(message, parts, send_one)

    async def fetch_media(self, media: dict[str, Any], max_bytes: int) -> tuple[bytes, str]:
        """A voice note by its file id: `getFile`, then the file itself."""
        if self._bot is None:
            raise MediaUnavailable("el canal de Telegram no está configurado")
        try:
            file = await self._bot.get_file(str(media["file_id"]))
            if file.file_size is not None and file.file_size > max_bytes:
                raise MediaUnavailable(f"más de {max_bytes} bytes")
            data = bytes(await file.download_as_bytearray())
        except (TelegramError, KeyError) as exc:
            raise MediaUnavailable(f"Telegram no lo entregó: {exc}") from exc
        if len(data) > max_bytes:
            raise MediaUnavailable(f"más de {max_bytes} bytes")
        return data, str(media.get("content_type") or "audio/ogg")

    async def typing(self, conversation: ConversationRef, on: bool) -> None:
        if on and self._bot is not None:
            with contextlib.suppress(TelegramError):
                await self._bot.send_chat_action(int(conversation.sender), ChatAction.TYPING)

    async def say(self, chat_id: int, text: str) -> None:
        """A message that is not stored (a refused message, an expired button)."""
        if self._bot is not None:
            try:
                await self._bot.send_message(chat_id=chat_id, text=text)
            except TelegramError as exc:
                log.warning("Telegram: could not tell a chat why: %s", exc.message)

    async def answer_callback(self, callback_id: str) -> None:
        """Stop the button's spinner in the person's app."""
        if self._bot is not None:
            with contextlib.suppress(TelegramError):
                await self._bot.answer_callback_query(callback_id)
