"""The gateway's one path for every inbound message, whatever its channel.

channel router → `accept` (validate, commit to the inbox, drop duplicates) → acknowledged →
`TurnRunner` (one conversation at a time: human mode → the desk; bot mode → Rasa) → outbox →
the channel's `send`. The synchronous REST channel waits for its turn with `answer`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.channel import InboundMessage, InvalidMessage
from connectors.turns import TurnRunner
from core import conversations as store
from core.ports import ConversationRef, HumanDesk, Postman


@dataclass(frozen=True)
class Accepted:
    conversation: ConversationRef
    message: store.Message
    duplicate: bool  # the same delivery again: stored once, its turn not run again


Acknowledge = Callable[[Accepted], Awaitable[None]]


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


class Gateway:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        turns: TurnRunner,
        desk: HumanDesk,
        max_message_chars: int,
        postman: Postman | None = None,
    ):
        self._sessions = sessions
        self.turns = turns
        self.desk = desk
        self._max_chars = max_message_chars
        self._postman = postman
        self._in_flight: set[asyncio.Task[Any]] = set()

    @property
    def database(self) -> async_sessionmaker[AsyncSession]:
        """For a channel's own tables (the web chat's sessions)."""
        return self._sessions

    async def accept(
        self, inbound: InboundMessage, acknowledge: Acknowledge | None = None
    ) -> Accepted:
        """Commit an inbound message to the inbox, `acknowledge` it, then have its turn run;
        InvalidMessage (nothing stored) for a message the gateway refuses."""
        text = validate_text(inbound.text, self._max_chars)
        async with self._sessions() as session:
            conversation = await store.get_or_create_conversation(
                session, inbound.channel, inbound.sender
            )
            ref = conversation.ref  # read before a rollback expires the row
            message = await store.add_user_message(
                session, conversation, text, inbound.payload, inbound.external_id, inbound.media
            )
            duplicate = message is None
            if message is None:  # the same delivery again
                assert inbound.external_id is not None
                message = await store.find_by_external_id(session, ref.id, inbound.external_id)
                assert message is not None
            accepted = Accepted(ref, message, duplicate)
        if acknowledge is not None:
            await acknowledge(accepted)
        if not duplicate or message.status == store.Status.PENDING:
            self.turns.submit(ref.id)
        return accepted

    async def answer(self, accepted: Accepted, timeout: float) -> list[store.Message] | None:
        """The replies to an accepted message once its turn has run; None if it has not run
        within `timeout` (it still will: the replies can be fetched later)."""
        message_id = accepted.message.id
        replies = self.turns.watch(message_id)
        try:
            if accepted.duplicate:  # its turn may have run long ago
                async with self._sessions() as session:
                    message = await session.get(store.Message, message_id)
                    assert message is not None
                    if message.status != store.Status.PENDING:
                        return await store.replies_to(session, message_id)
            # A new message's turn cannot have run yet: `accept` returned without giving the
            # event loop a chance to start it, and the watch above is in place before it does.
            try:
                return await asyncio.wait_for(asyncio.shield(replies), timeout)
            except TimeoutError:
                return None
        finally:
            self.turns.unwatch(message_id, replies)

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run work on its own (a dropped connection does not cancel it); `drain` awaits it."""
        task = asyncio.ensure_future(work)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def drain(self, timeout: float) -> None:
        """At shutdown: let the work in flight finish (and return its database connections)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)

    async def conversation(self, channel: str, sender: str) -> ConversationRef | None:
        async with self._sessions() as session:
            conversation = await store.get_conversation(session, channel, sender)
            return conversation.ref if conversation is not None else None

    async def history(self, conversation: ConversationRef) -> list[store.Message]:
        """The stored messages of a conversation, both ways, in order."""
        async with self._sessions() as session:
            return await store.history(session, conversation.id)

    async def sent_to(
        self, channel: str, sender: str, after: int, limit: int
    ) -> list[store.Message] | None:
        """Bot and agent messages to a sender after a cursor; None when there is no such sender."""
        async with self._sessions() as session:
            conversation = await store.get_conversation(session, channel, sender)
            if conversation is None:
                return None
            return await store.sent_to_user(session, conversation, after, limit)

    async def offered_button(
        self, channel: str, sender: str, message_id: int, index: int
    ) -> dict[str, str] | None:
        """Button `index` of a message sent to this sender: what a pressed button names when a
        channel cannot carry the payload itself (Telegram's 64-byte callback data). None when
        there is no such button for this sender."""
        async with self._sessions() as session:
            message = await session.get(store.Message, message_id)
            if message is None or message.author == store.Author.USER:
                return None
            conversation = await session.get(store.Conversation, message.conversation_id)
            if conversation is None or (conversation.channel, conversation.sender) != (
                channel,
                sender,
            ):
                return None
            buttons = message.buttons or []
            return dict(buttons[index]) if 0 <= index < len(buttons) else None

    async def last_buttons(self, channel: str, sender: str) -> list[dict[str, str]]:
        """The buttons of the last message sent to this sender (none when it had none): what a
        reply of "2" or of an option's words chooses on channels that show them as a list."""
        async with self._sessions() as session:
            conversation = await store.get_conversation(session, channel, sender)
            if conversation is None:
                return []
            last = await store.last_to_person(session, conversation.id)
            return [dict(button) for button in last.buttons or []] if last is not None else []

    async def last_heard(self, channel: str, sender: str) -> datetime | None:
        """When this sender last wrote (None: never): a messaging window opens with it."""
        async with self._sessions() as session:
            conversation = await store.get_conversation(session, channel, sender)
            if conversation is None:
                return None
            last = await store.last_from_person(session, conversation.id)
            return last.created_at if last is not None else None

    async def notify(
        self, channel: str, sender: str, text: str, template: dict[str, Any] | None = None
    ) -> store.Message:
        """A message the institute starts (a reminder, a campaign notice): committed to the
        outbox like any reply, then delivered in order with the conversation's others."""
        text = validate_text(text, self._max_chars)
        async with self._sessions() as session:
            conversation = await store.get_or_create_conversation(session, channel, sender)
            ref = conversation.ref
            [message] = store.queue_outbound(session, ref.id, [{"text": text, "buttons": []}])
            message.template = template
            await session.commit()
        if self._postman is not None:
            await self._postman.wake(ref.id)
        return message

    async def open_conversation(self, channel: str, sender: str) -> ConversationRef:
        async with self._sessions() as session:
            return (await store.get_or_create_conversation(session, channel, sender)).ref
