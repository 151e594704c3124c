"""The channel port: what every channel is, and the one normalized shape of what comes in.

A channel is one folder under `connectors/` with a `Channel` subclass and one line in
`connectors/registry.py`. The channel's router only parses and verifies what its provider sends
and hands each message to `Gateway.accept` as an `InboundMessage`; everything after that (the
inbox, the turn, the outbox, retries) is the gateway's. On the way out the gateway asks the
channel to `send` each stored message for a person, in order; the channel renders it for itself.

What a channel must write: `name`, `label`, `router`, `send` (which shows the message as the
provider can: `numbered_options` and `choose` for channels without buttons, `split_text` and
`send_parts` for length limits). What it may override: `typing`, `start`, `stop`, `enabled`,
`template` (outside a window), `fetch_media` (voice notes, for speech-to-text).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from fastapi import APIRouter

from connectors.media import MediaUnavailable
from core.conversations import Message
from core.errors import ApiError
from core.ports import ConversationRef
from core.text import fold_accents

if TYPE_CHECKING:
    from connectors.gateway import Gateway
    from core.bus import Bus
    from core.settings import Settings


@dataclass(frozen=True)
class InboundMessage:
    """One message from a person, normalized: the same shape for every channel."""

    channel: str
    sender: str
    text: str
    payload: str | None = None  # what a clicked button sends to the bot (text is its title)
    external_id: str | None = None  # the provider's (or client's) message id, for dedup
    metadata: dict[str, Any] = field(default_factory=dict)
    # A recording it carried (a voice note): what the channel's `fetch_media` needs to fetch it.
    media: dict[str, Any] | None = None


class InvalidMessage(ApiError):
    """A message the gateway refuses (400), with a code for programs and a Spanish text for
    people. Channels answer it in their own way (an HTTP error, an error frame, a reply)."""

    def __init__(self, code: str, message: str):
        super().__init__(400, code, message)


class DeliveryError(Exception):
    """A channel could not hand a message over. `retry`: whether trying again may help (a
    time-out, a 5xx) or not (the provider refused the recipient)."""

    def __init__(self, reason: str, retry: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        # Of a message sent in parts (`send_parts`): how many went out before this failure.
        self.parts_sent: int | None = None


@dataclass(frozen=True)
class Runtime:
    """What a channel gets when the gateway starts: built once by the app factory."""

    settings: Settings
    gateway: Gateway
    bus: Bus


class Channel:
    name: ClassVar[str]
    label: ClassVar[str]  # how the consoles name the channel, in Spanish
    max_text_chars: ClassVar[int | None] = None  # longer texts are split into several messages
    sms: ClassVar[bool] = False  # charged per SMS segment (the agent console counts them)
    # The other side fetches its messages (REST): a stored message is a delivered one, and the
    # gateway sends nothing.
    pulled: ClassVar[bool] = False
    # How long after the person's last message the institute may write freely (WhatsApp's and
    # Messenger's customer-service window); None: no window.
    window: ClassVar[timedelta | None] = None
    # The person's own program makes the payloads (the web chat's page): one counts only when it
    # is a button the bot offered, else the message is read as what it says. Elsewhere the
    # channel makes them from the provider's verified webhook.
    payloads_from_client: ClassVar[bool] = False
    # An integrator's system sends a button's payload as the text ("/intent{…}": REST only). On
    # every other channel a typed "/…" that is no offered button is words, never an intent.
    slash_intents: ClassVar[bool] = False

    router: APIRouter

    def __init__(self) -> None:
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError(f"the {self.name} channel has not been started")
        return self._runtime

    async def start(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def stop(self) -> None:
        return None

    @property
    def enabled(self) -> bool:
        """Configured and able to send (a channel without its credentials is off)."""
        return True

    def template(self, text: str) -> dict[str, Any] | None:
        """The approved template a message outside the window goes as; None: it cannot go."""
        return None

    async def send(self, conversation: ConversationRef, message: Message) -> None:
        """Hand one stored message to the provider, shown as the provider can (buttons as its
        own, or `numbered_options`; texts over `max_text_chars` cut with `split_text`);
        DeliveryError when it could not."""
        raise NotImplementedError

    async def typing(self, conversation: ConversationRef, on: bool) -> None:
        """Show or hide that the bot is working, where the channel can."""
        return None

    async def fetch_media(self, media: dict[str, Any], max_bytes: int) -> tuple[bytes, str]:
        """The bytes and content type of a recording a person sent (`InboundMessage.media`);
        MediaUnavailable when it cannot be had (gone, too large, the provider failing)."""
        raise MediaUnavailable(f"{self.label} no entrega grabaciones")


def numbered_options(text: str, buttons: list[dict[str, str]]) -> str:
    """A message's buttons as a numbered list under its text, and how to answer: for channels
    without buttons (SMS, WhatsApp through Twilio). `choose` reads the answer back."""
    if not buttons:
        return text
    options = "\n".join(f"{i}. {b['title']}" for i, b in enumerate(buttons, start=1))
    numbers = [str(i) for i in range(1, len(buttons) + 1)]
    how = (
        f"Responde {numbers[0]}."
        if len(numbers) == 1
        else (f"Responde {', '.join(numbers[:-1])} o {numbers[-1]}.")
    )
    return f"{text}\n\n{options}\n\n{how}" if text else f"{options}\n\n{how}"


def _fold(text: str) -> str:
    return " ".join(fold_accents(text.casefold()).strip(" .¡!¿?").split())


def choose(answer: str, buttons: list[dict[str, str]]) -> dict[str, str] | None:
    """The button an answer to `numbered_options` picks: its words (without accents or case),
    else its number ("2", "2.", "#2"); None when it picks none. Words come first, so where the
    options are numbers themselves (a 5-to-1 rating) "2" is the option "2", not the second."""
    if not buttons:
        return None
    said = _fold(answer)
    for button in buttons:  # first by its words: options that are numbers ("5", "4", …) too
        if _fold(button["title"]) == said:
            return button
    number = said.lstrip("#").rstrip(".)")
    if number.isdigit() and 1 <= int(number) <= len(buttons):
        return buttons[int(number) - 1]
    return None


def split_text(text: str, limit: int | None) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at a line or word break when there is
    one in the second half of the part."""
    if limit is None or len(text) <= limit:
        return [text]
    parts = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


async def send_parts(
    message: Message, parts: list[str], send_one: Callable[[int, str], Awaitable[None]]
) -> None:
    """Send `parts` of a stored message one by one (`send_one(index, part)`), skipping those an
    earlier attempt sent; a `DeliveryError` says how many went out, and the outbox keeps that for
    the next attempt, so the person never reads a part twice."""
    for index in range(message.parts_sent or 0, len(parts)):
        try:
            await send_one(index, parts[index])
        except DeliveryError as exc:
            exc.parts_sent = index
            raise
