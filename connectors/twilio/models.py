"""What Twilio posts to a messaging webhook (form fields), as far as the channel reads it.

Twilio's names are kept as aliases; any other field (SmsStatus, ProfileName, WaId, …) is allowed
and ignored. Phone numbers are personal data: nothing here is logged.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connectors import media


class TwilioMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    message_sid: str = Field(alias="MessageSid", min_length=1, max_length=64)
    account_sid: str = Field(alias="AccountSid", min_length=1)
    sender: str = Field(alias="From", min_length=1, max_length=64)  # "whatsapp:+52…" or "+52…"
    to: str = Field(alias="To", min_length=1, max_length=64)
    body: str = Field(default="", alias="Body")
    num_media: int = Field(default=0, alias="NumMedia", ge=0)
    media_type: str | None = Field(default=None, alias="MediaContentType0")
    media_url: str | None = Field(default=None, alias="MediaUrl0")
    latitude: float | None = Field(default=None, alias="Latitude")
    longitude: float | None = Field(default=None, alias="Longitude")
    # WhatsApp quick-reply buttons of an approved template answer with these.
    button_payload: str | None = Field(default=None, alias="ButtonPayload")
    button_text: str | None = Field(default=None, alias="ButtonText")

    def media_kind(self) -> media.Media | None:
        if self.latitude is not None and self.longitude is not None:
            return media.Media.LOCATION
        if self.num_media == 0:
            return None
        kind = (self.media_type or "").split("/")[0]
        return {
            "image": media.Media.IMAGE,
            "audio": media.Media.AUDIO,
            "video": media.Media.VIDEO,
        }.get(kind, media.Media.DOCUMENT)
