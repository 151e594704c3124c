"""The small interfaces through which features reach each other, wired by the app factory.

The gateway (`connectors/`) enters human mode through `HumanDesk`, which the handoff implements;
the handoff pauses and resumes the bot through `BotControl`, which the gateway implements, and
has its messages delivered through `Postman`. Neither feature imports the other. The gateway looks
at every message through `SafetyNet` (the triage feature's emergency detector) before the bot does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.protocol import CallbackRequest, EmergencyKind, HandoffRequest, Reply


@dataclass(frozen=True)
class ConversationRef:
    """Who a conversation is, without its database row: safe to pass between features."""

    id: int
    key: str  # the opaque id Rasa knows the conversation by
    channel: str
    sender: str


class HumanDesk(Protocol):
    """What the gateway asks of the people's side (the handoff queue)."""

    async def conversation_started(self, conversation: ConversationRef) -> None: ...

    async def request(
        self, conversation: ConversationRef, request: HandoffRequest
    ) -> list[Reply]: ...

    async def on_user_message(
        self, conversation: ConversationRef, text: str, payload: str | None
    ) -> list[Reply] | None:
        """A message of a conversation in human mode: what to answer (usually nothing: it is
        for the agent), or None when no person holds it any more and the bot should answer."""
        ...

    async def record_csat(self, conversation: ConversationRef, score: int) -> None: ...

    async def record_callback(
        self, conversation: ConversationRef, request: CallbackRequest
    ) -> None: ...

    async def user_left(self, conversation: ConversationRef) -> None: ...

    async def user_returned(self, conversation: ConversationRef) -> None: ...


class BotControl(Protocol):
    """What the handoff asks of the bot: stop answering a conversation, and take it back."""

    async def pause(self, conversation: ConversationRef) -> None: ...

    async def resume(self, conversation: ConversationRef, action: str | None) -> list[Reply]:
        """Resume the conversation and run `action` there; the messages it produced."""
        ...


class Postman(Protocol):
    """Delivers what the outbox holds: told after messages for a person were committed."""

    async def wake(self, conversation_id: int) -> None: ...


class SafetyNet(Protocol):
    """What the gateway asks of every message before anything else is done with it."""

    def emergency(self, text: str) -> EmergencyKind | None:
        """The emergency the message says, when it surely says one."""
        ...

    def replies(self, kind: EmergencyKind) -> list[Reply]:
        """The first thing said to someone in that emergency (911, crisis line)."""
        ...


class SpeechUnavailable(Exception):
    """The speech-to-text service could not be reached or failed; the reason for the log."""


class SpeechToText(Protocol):
    """Speech-to-text: what a recording says (a voice note on a messaging channel; the voice
    channel's calls). Built from `STT_URL`; without it audio is answered politely."""

    async def transcribe(self, audio: bytes, content_type: str) -> str:
        """The words said, in Spanish ("" when none were understood); SpeechUnavailable when
        the service failed."""
        ...


class NoDesk:
    """The handoff switched off: nobody to hand over to, nothing to record."""

    async def conversation_started(self, conversation: ConversationRef) -> None:
        return None

    async def request(self, conversation: ConversationRef, request: HandoffRequest) -> list[Reply]:
        return []

    async def on_user_message(
        self, conversation: ConversationRef, text: str, payload: str | None
    ) -> list[Reply] | None:
        return None

    async def record_csat(self, conversation: ConversationRef, score: int) -> None:
        return None

    async def record_callback(
        self, conversation: ConversationRef, request: CallbackRequest
    ) -> None:
        return None

    async def user_left(self, conversation: ConversationRef) -> None:
        return None

    async def user_returned(self, conversation: ConversationRef) -> None:
        return None
