"""The gateway's one path for every inbound message, whatever its channel.

inbound message → validate → (serialized per conversation) store, drop duplicates → Rasa → store
the replies → back to the channel adapter, which renders and delivers them.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors import store
from connectors.rasa_client import RasaClient
from handoff.service import HandoffRequest, HandoffService


@dataclass(frozen=True)
class InboundMessage:
    """One message from a person, normalized: the same shape for every channel."""

    channel: str
    sender: str
    text: str
    payload: str | None = None  # what a clicked button sends to the bot (text is its title)
    external_id: str | None = None  # the provider's (or client's) message id, for dedup
    metadata: dict[str, Any] = field(default_factory=dict)


class InvalidMessage(ValueError):
    """A message the gateway refuses, with a code for programs and a Spanish text for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Turn:
    conversation: store.Conversation
    user_message: store.Message
    replies: list[store.Message]
    duplicate: bool = False


Accepted = Callable[[store.Conversation, store.Message], Awaitable[None]]


def validate_text(text: str, max_chars: int) -> str:
    """The text to process, or InvalidMessage (empty, too long, not encodable as UTF-8)."""
    text = text.strip()
    if not text:
        raise InvalidMessage("empty_message", "Escribe un mensaje antes de enviarlo.")
    if len(text) > max_chars:
        raise InvalidMessage(
            "message_too_long",
            f"Tu mensaje es demasiado largo ({len(text):,} caracteres). Escribe como máximo "
            f"{max_chars:,} caracteres.",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from a JSON "\ud800" escape
        raise InvalidMessage(
            "invalid_encoding", "Tu mensaje tiene caracteres no válidos. Escríbelo de nuevo."
        ) from exc
    return text


class KeyedLocks:
    """One asyncio lock per conversation, so its turns run one at a time and in order."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def get(self, channel: str, sender: str) -> asyncio.Lock:
        key = (channel, sender)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock


class Gateway:
    def __init__(
        self,
        sessions: async_sessionmaker,
        rasa: RasaClient,
        max_message_chars: int,
        locks: KeyedLocks | None = None,
        handoff: HandoffService | None = None,
    ):
        self._sessions = sessions
        self._rasa = rasa
        self._max_chars = max_message_chars
        self._locks = locks or KeyedLocks()
        self.handoff = handoff
        self._in_flight: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a turn on its own (a dropped connection does not cancel it); `drain` awaits it."""
        task = asyncio.ensure_future(work)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def drain(self, timeout: float) -> None:
        """At shutdown: let the turns in flight finish (and return their database connections)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)

    def validate(self, text: str) -> str:
        return validate_text(text, self._max_chars)

    async def handle(self, inbound: InboundMessage, on_accepted: Accepted | None = None) -> Turn:
        """Process one inbound message.

        Raises InvalidMessage (nothing stored), or BotUnavailable (the message is stored).
        """
        text = self.validate(inbound.text)
        async with self._locks.get(inbound.channel, inbound.sender), self._sessions() as session:
            conversation = await store.get_or_create_conversation(
                session, inbound.channel, inbound.sender
            )
            message = await store.add_user_message(
                session, conversation, text, inbound.payload, inbound.external_id
            )
            if message is None:  # the same delivery again
                assert inbound.external_id is not None
                message = await store.find_by_external_id(
                    session, conversation, inbound.external_id
                )
                assert message is not None
                replies = await store.replies_to(session, message)
                if replies or conversation.mode == "human":
                    return Turn(conversation, message, replies, duplicate=True)
                # The first delivery never got an answer (the bot was down): answer it now.
            else:
                if on_accepted is not None:
                    await on_accepted(conversation, message)
                if self.handoff is not None and await store.is_first_user_message(session, message):
                    await self.handoff.conversation_started(session, conversation)

            if conversation.mode == "human" and self.handoff is not None:
                answers = await self.handoff.on_user_message(session, conversation, message)
                if conversation.mode == "human" or answers:  # for the agent, or left the queue
                    replies = await store.add_replies(session, conversation, message, answers)
                    return Turn(conversation, message, replies)

            bot_messages = await self._rasa.send(
                conversation.key,
                message.payload or message.text,
                metadata={"channel": inbound.channel, **inbound.metadata},
            )
            answers = await self._act_on_requests(session, conversation, bot_messages)
            replies = await store.add_replies(session, conversation, message, answers)
            return Turn(conversation, message, replies)

    async def _act_on_requests(
        self, session: AsyncSession, conversation: store.Conversation, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The bot's messages, with its requests to the gateway carried out in place.

        An action asks for a side effect with `{"custom": {"ventanilla": {...}}}`: `handoff`
        (queue the conversation for a person), `csat` (the survey answer), `callback`.
        """
        answers: list[dict[str, Any]] = []
        for item in items:
            request = item.get("custom", {}).get("ventanilla") if "custom" in item else None
            if request is None:
                if "text" in item:
                    answers.append(item)
                continue
            if self.handoff is None:
                continue
            if isinstance(request.get("handoff"), dict):
                answers += await self.handoff.request(
                    session, conversation, HandoffRequest.from_bot(request["handoff"])
                )
            if "csat" in request:
                await self.handoff.record_csat(session, conversation, request["csat"])
            if isinstance(request.get("callback"), dict):
                await self.handoff.record_callback(session, conversation, request["callback"])
        return answers

    async def conversation_history(self, channel: str, sender: str) -> list[store.Message] | None:
        """The stored messages of a conversation, None when there is no such conversation."""
        async with self._sessions() as session:
            conversation = await store.get_conversation(session, channel, sender)
            if conversation is None:
                return None
            return await store.history(session, conversation)

    async def sent_to(
        self, channel: str, sender: str, after: int, limit: int
    ) -> list[store.Message] | None:
        """Bot and agent messages to a sender after a cursor; None when there is no such sender."""
        async with self._sessions() as session:
            conversation = await store.get_conversation(session, channel, sender)
            if conversation is None:
                return None
            return await store.sent_to_user(session, conversation, after, limit)

    async def open_conversation(self, channel: str, sender: str) -> store.Conversation:
        async with self._sessions() as session:
            return await store.get_or_create_conversation(session, channel, sender)
