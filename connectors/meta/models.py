"""What Meta posts to a Messenger or Instagram webhook: a batch of entries, each with messaging
events. Only what the channel reads is modelled; other fields are allowed and ignored.

    {"object": "page" | "instagram",
     "entry": [{"id": PAGE_ID, "time": …, "messaging": [
         {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": …,
          "message": {"mid": …, "text": …, "quick_reply": {"payload": …},
                      "attachments": [{"type": "image", "payload": {…}}], "is_echo": …}
          | "postback": {"mid": …, "title": …, "payload": …}
          | "read" | "delivery" | "reaction" …}]}]}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors import media


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Party(_Model):
    id: str = Field(min_length=1, max_length=64)


class QuickReply(_Model):
    payload: str


class Attachment(_Model):
    type: str
    payload: dict[str, Any] | None = None


class MessageEvent(_Model):
    mid: str = Field(min_length=1, max_length=255)
    text: str | None = None
    quick_reply: QuickReply | None = None
    attachments: list[Attachment] = []
    is_echo: bool = False  # what the page itself sent: not a turn

    def media_kind(self) -> media.Media | None:
        if not self.attachments:
            return None
        kind = self.attachments[0].type
        if kind == "image" and "sticker_id" in (self.attachments[0].payload or {}):
            return media.Media.STICKER  # Messenger sends a sticker as an image with its id
        if kind == "location" or (kind == "fallback" and self._is_location()):
            return media.Media.LOCATION
        return {
            "image": media.Media.IMAGE,
            "audio": media.Media.AUDIO,
            "video": media.Media.VIDEO,
            "file": media.Media.DOCUMENT,
            "sticker": media.Media.STICKER,
        }.get(kind, media.Media.DOCUMENT)

    def _is_location(self) -> bool:
        payload = self.attachments[0].payload or {}
        return "coordinates" in payload


class Postback(_Model):
    mid: str | None = None
    title: str = ""
    payload: str


class MessagingEvent(_Model):
    sender: Party
    recipient: Party
    timestamp: int | None = None
    message: MessageEvent | None = None
    postback: Postback | None = None


class Entry(_Model):
    id: str
    time: int | None = None
    messaging: list[MessagingEvent] = []


class Delivery(_Model):
    """One POST: `object` says the product ("page": Messenger; "instagram")."""

    object: str
    entry: list[Entry]
