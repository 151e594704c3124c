"""The channels the gateway serves: one line each. Adding a channel is a folder under
`connectors/` with a `Channel` subclass, and its line here (README, "Adding a channel")."""

from __future__ import annotations

from connectors.channel import Channel
from connectors.meta.router import InstagramChannel, MessengerChannel
from connectors.rest.router import RestChannel
from connectors.telegram.router import TelegramChannel
from connectors.twilio.router import SmsChannel, WhatsAppChannel
from connectors.webchat.router import WebchatChannel

CHANNELS: list[type[Channel]] = [
    WebchatChannel,
    RestChannel,
    TelegramChannel,
    WhatsAppChannel,
    SmsChannel,
    MessengerChannel,
    InstagramChannel,
]


def build_channels() -> dict[str, Channel]:
    """A fresh instance of every registered channel, by name."""
    channels = {}
    for kind in CHANNELS:
        channel = kind()
        channels[channel.name] = channel
    return channels


def channel_labels() -> dict[str, str]:
    """How the consoles name each channel, in Spanish."""
    return {kind.name: kind.label for kind in CHANNELS}
