"""Telegram's updates, as `python-telegram-bot` parses them, into the gateway's one shape.

What becomes a turn: a message (text, or a photo, sticker, location, document, voice note, …:
see `connectors.media`) and a button press (a callback query). What does not: an edited message
(the person already had the answer to the first version), a channel post, a member update; they
are acknowledged and dropped.

The provider's id of each delivery is the update's `update_id`: Telegram sends the same update
again until the webhook answers 2xx, and the gateway keeps one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Message, Update

from connectors import media
from connectors.channel import InboundMessage

CHANNEL = "telegram"
BUTTON_PREFIX = "b:"  # callback data "b:<message id>:<button index>" (at most 64 bytes)
START = re.compile(r"^/start(@\w+)?(\s|$)")
GREETING = "hola"  # what "/start" means: the person opened the conversation


@dataclass(frozen=True)
class ButtonPress:
    """A pressed inline button: which stored message's button, to look up its payload."""

    update_id: int
    chat_id: int
    callback_id: str
    message_id: int | None  # ours, from the callback data; None for data we did not write
    index: int


def callback_data(message_id: int, index: int) -> str:
    return f"{BUTTON_PREFIX}{message_id}:{index}"


def parse_callback_data(data: str | None) -> tuple[int, int] | None:
    if not data or not data.startswith(BUTTON_PREFIX):
        return None
    try:
        message_id, index = data.removeprefix(BUTTON_PREFIX).split(":")
        return int(message_id), int(index)
    except ValueError:
        return None


def external_id(update: Update) -> str:
    return f"update:{update.update_id}"


def _media_kind(message: Message) -> media.Media | None:
    if message.photo:
        return media.Media.IMAGE
    if message.sticker:
        return media.Media.STICKER
    if message.location or message.venue:
        return media.Media.LOCATION
    if message.voice or message.audio:
        return media.Media.AUDIO
    if message.video or message.video_note or message.animation:
        return media.Media.VIDEO
    if message.document:
        return media.Media.DOCUMENT
    if message.contact:
        return media.Media.CONTACT
    return None


def to_inbound(update: Update) -> InboundMessage | ButtonPress | None:
    """The turn an update asks for: an InboundMessage, a ButtonPress (its payload is looked up
    first), or None for an update that is not one (edited messages among them)."""
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat if query.message is not None else None
        if chat is None:  # an inline-mode button we never sent
            return None
        parsed = parse_callback_data(query.data)
        return ButtonPress(
            update_id=update.update_id,
            chat_id=chat.id,
            callback_id=query.id,
            message_id=parsed[0] if parsed else None,
            index=parsed[1] if parsed else -1,
        )
    message = update.message  # not edited_message, channel_post, …
    if message is None:
        return None
    sender = str(message.chat.id)
    if message.text is not None:
        # Telegram sends "/start" when a person opens the bot (a link may add a parameter).
        text = GREETING if START.match(message.text) else message.text
        return InboundMessage(CHANNEL, sender, text, external_id=external_id(update))
    kind = _media_kind(message)
    if kind is None:  # a poll, a dice, a service message: nothing to answer
        return None
    text, payload = media.inbound(kind)
    recording = message.voice or message.audio
    where = (
        {"file_id": recording.file_id, "content_type": recording.mime_type or "audio/ogg"}
        if recording is not None
        else None
    )
    return InboundMessage(
        CHANNEL, sender, text, payload=payload, external_id=external_id(update), media=where
    )
