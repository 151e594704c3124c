"""Conversations and their messages, in both directions: the inbox and the outbox.

A conversation is one (channel, sender) pair. Rasa only ever sees the conversation's opaque `key`,
never the provider's sender id (a phone number on WhatsApp or SMS).

Every message has a `status`:

* a person's message (the inbox) is `pending` from the moment it is committed (and only then
  acknowledged to the channel) until its turn has run: `done`, or `failed` when the bot could not
  answer it and the person was told so;
* a message for a person (the outbox: the bot's, an agent's, a queue notice) is `pending` until
  its channel's sender took it: `done`, or `failed` after the last retry, with the reason in
  `error` for supervisors to see.

A process that starts again finds what was left `pending` and carries on (connectors/turns.py,
connectors/outbox.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from core.db import Base, UtcDateTime, utcnow
from core.ports import ConversationRef
from core.protocol import ArticleRef, Button, Reply


class Mode(StrEnum):
    BOT = "bot"
    HUMAN = "human"


class Author(StrEnum):
    USER = "user"
    BOT = "bot"  # the bot, and the system's notices (queue places, apologies)
    AGENT = "agent"


class Status(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


TO_PERSON = (Author.BOT, Author.AGENT)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "sender", name="uq_conversation_channel_sender"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(255))
    mode: Mapped[Mode] = mapped_column(String(16), default=Mode.BOT)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def ref(self) -> ConversationRef:
        return ConversationRef(id=self.id, key=self.key, channel=self.channel, sender=self.sender)


class Message(Base):
    __tablename__ = "messages"
    # A provider's message id is stored once per conversation: a redelivery is a duplicate.
    __table_args__ = (
        UniqueConstraint("conversation_id", "external_id", name="uq_message_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    author: Mapped[Author] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text, default=None)
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[Status] = mapped_column(String(16), default=Status.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    error: Mapped[str | None] = mapped_column(String(255), default=None)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # The emergency this message answers (`core.protocol.EmergencyKind`), for channels and
    # integrators that act on it.
    alert: Mapped[str | None] = mapped_column(String(16), default=None)
    # The knowledge-base article it answers from (`core.protocol.ArticleRef`).
    article: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    # Sent outside the channel's customer-service window: the approved template it goes as
    # ({"name": …, "variables": {…}}; WhatsApp's content SID).
    template: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # Split for its channel (`connectors.channel.send_parts`): how many parts went out before a
    # failed attempt, so the next attempt sends only the rest.
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A recording the person sent (a voice note): where its channel fetches it from
    # (`connectors.media`), for its turn to have it transcribed.
    media: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.author,
            "text": self.text,
            "buttons": list(self.buttons or []),
            "ts": self.created_at.isoformat(),
            "client_id": self.external_id if self.author == Author.USER else None,
            **({"alert": {"kind": self.alert}} if self.alert else {}),
            **({"article": dict(self.article)} if self.article else {}),
        }

    def as_reply(self) -> Reply:
        buttons = [Button(title=b["title"], payload=b["payload"]) for b in self.buttons or []]
        reply = Reply(text=self.text, buttons=buttons)
        if self.alert:
            reply["alert"] = self.alert
        if self.article:
            reply["article"] = ArticleRef(**self.article)  # type: ignore[typeddict-item]
        return reply


# ---------------------------------------------------------------- conversations


async def get_conversation(session: AsyncSession, channel: str, sender: str) -> Conversation | None:
    result = await session.execute(
        select(Conversation).where(Conversation.channel == channel, Conversation.sender == sender)
    )
    return result.scalar_one_or_none()


async def get_or_create_conversation(
    session: AsyncSession, channel: str, sender: str
) -> Conversation:
    found = await get_conversation(session, channel, sender)
    if found:
        return found
    conversation = Conversation(channel=channel, sender=sender, key=secrets.token_hex(16))
    session.add(conversation)
    try:
        await session.commit()
    except IntegrityError:  # created by a concurrent request in the meantime
        await session.rollback()
        found = await get_conversation(session, channel, sender)
        assert found is not None
        return found
    return conversation


# ---------------------------------------------------------------- the inbox


async def add_user_message(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    payload: str | None,
    external_id: str | None,
    media: dict[str, Any] | None = None,
) -> Message | None:
    """Commit an inbound message as pending; None when its external id was stored already."""
    message = Message(
        conversation_id=conversation.id,
        author=Author.USER,
        text=text,
        payload=payload,
        external_id=external_id,
        status=Status.PENDING,
        media=media,
    )
    session.add(message)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return None
    return message


async def find_by_external_id(
    session: AsyncSession, conversation_id: int, external_id: str
) -> Message | None:
    result = await session.execute(
        select(Message).where(
            Message.conversation_id == conversation_id, Message.external_id == external_id
        )
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True)
class PendingTurn:
    message: Message
    conversation: Conversation
    first: bool  # the conversation's first message from the person
    more: bool  # other messages of the conversation wait after this one


async def next_pending_turn(session: AsyncSession, conversation_id: int) -> PendingTurn | None:
    """The oldest message of the conversation whose turn has not run yet, whether it is the
    person's first and whether another one waits after it: one query."""
    earlier = aliased(Message)
    said_before = (
        select(earlier.id)
        .where(
            earlier.conversation_id == Message.conversation_id,
            earlier.author == Author.USER,
            earlier.id < Message.id,
        )
        .exists()
    )
    result = await session.execute(
        select(Message, Conversation, said_before)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.conversation_id == conversation_id,
            Message.author == Author.USER,
            Message.status == Status.PENDING,
        )
        .order_by(Message.id)
        .limit(2)
    )
    rows = result.all()
    if not rows:
        return None
    message, conversation, said = rows[0]
    return PendingTurn(message, conversation, first=not said, more=len(rows) > 1)


async def conversations_with_pending_turns(session: AsyncSession) -> list[int]:
    result = await session.execute(
        select(Message.conversation_id)
        .where(Message.author == Author.USER, Message.status == Status.PENDING)
        .group_by(Message.conversation_id)
        .order_by(Message.conversation_id)
    )
    return list(result.scalars())


async def finish_turn(
    session: AsyncSession, message_id: int, status: Status, error: str | None = None
) -> None:
    """Mark an inbound message's turn as run (in the caller's transaction)."""
    await session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status=status, error=error[:255] if error else None, done_at=utcnow())
    )


# ---------------------------------------------------------------- the outbox


def queue_outbound(
    session: AsyncSession,
    conversation_id: int,
    replies: list[Reply] | list[dict[str, Any]],
    reply_to: int | None = None,
    author: Author = Author.BOT,
    delivered: bool = False,
) -> list[Message]:
    """Add messages for the person to the caller's transaction: pending delivery, or delivered
    already where storing them is delivering them (a channel the other side pulls from)."""
    now = utcnow()
    stored = [
        Message(
            conversation_id=conversation_id,
            author=author,
            text=reply["text"],
            buttons=list(reply.get("buttons") or []),
            alert=reply.get("alert"),
            article=reply.get("article"),
            reply_to_id=reply_to,
            status=Status.DONE if delivered else Status.PENDING,
            done_at=now if delivered else None,
        )
        for reply in replies
    ]
    session.add_all(stored)
    return stored


async def pending_outbound(
    session: AsyncSession, conversation_id: int, now: datetime | None = None
) -> list[Message]:
    """The conversation's undelivered messages in order, up to the first one not yet due."""
    result = await session.execute(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.author.in_(TO_PERSON),
            Message.status == Status.PENDING,
        )
        .order_by(Message.id)
    )
    due = []
    for message in result.scalars():
        if now is not None and message.retry_at is not None and message.retry_at > now:
            break  # later ones wait behind it: a person reads them in order
        due.append(message)
    return due


async def conversations_with_pending_outbound(session: AsyncSession, now: datetime) -> list[int]:
    result = await session.execute(
        select(Message.conversation_id)
        .where(
            Message.author.in_(TO_PERSON),
            Message.status == Status.PENDING,
            (Message.retry_at.is_(None)) | (Message.retry_at <= now),
        )
        .group_by(Message.conversation_id)
    )
    return list(result.scalars())


async def mark_delivered(session: AsyncSession, message_ids: list[int]) -> None:
    await session.execute(
        update(Message)
        .where(Message.id.in_(message_ids), Message.status == Status.PENDING)
        .values(status=Status.DONE, done_at=utcnow(), error=None)
    )


async def mark_retry(
    session: AsyncSession,
    message_id: int,
    attempts: int,
    retry_at: datetime,
    error: str,
    parts_sent: int | None = None,
) -> None:
    """A failed attempt that will be tried again (`parts_sent`: the parts that did go out)."""
    values: dict[str, Any] = {"attempts": attempts, "retry_at": retry_at, "error": error[:255]}
    if parts_sent is not None:
        values["parts_sent"] = parts_sent
    await session.execute(update(Message).where(Message.id == message_id).values(**values))


async def set_transcript(session: AsyncSession, message_id: int, text: str) -> None:
    """A voice note's words become its text (and it is no longer a media payload)."""
    await session.execute(
        update(Message).where(Message.id == message_id).values(text=text, payload=None)
    )


async def set_template(session: AsyncSession, message_id: int, template: dict[str, Any]) -> None:
    """The approved template a message goes as (it was due outside the channel's window)."""
    await session.execute(update(Message).where(Message.id == message_id).values(template=template))


async def mark_failed(session: AsyncSession, message_id: int, attempts: int, error: str) -> None:
    await session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status=Status.FAILED, attempts=attempts, error=error[:255], done_at=utcnow())
    )


async def failed_deliveries(
    session: AsyncSession, limit: int = 100
) -> list[tuple[Message, Conversation]]:
    """Messages that never reached their person, newest first, with their conversation."""
    result = await session.execute(
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.author.in_(TO_PERSON), Message.status == Status.FAILED)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return [(m, c) for m, c in result.all()]


# ---------------------------------------------------------------- reading


async def replies_to(session: AsyncSession, message_id: int) -> list[Message]:
    result = await session.execute(
        select(Message).where(Message.reply_to_id == message_id).order_by(Message.id)
    )
    return list(result.scalars())


async def history(
    session: AsyncSession, conversation_id: int, after: int = 0, limit: int | None = None
) -> list[Message]:
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id > after)
        .order_by(Message.id)
    )
    if limit is not None:
        query = query.limit(limit)
    result = await session.execute(query)
    return list(result.scalars())


async def sent_to_user(
    session: AsyncSession, conversation: Conversation, after: int, limit: int
) -> list[Message]:
    """What the bot and agents sent to the user after message id `after` (a cursor)."""
    result = await session.execute(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.id > after,
            Message.author.in_(TO_PERSON),
        )
        .order_by(Message.id)
        .limit(limit)
    )
    return list(result.scalars())


async def last_to_person(session: AsyncSession, conversation_id: int) -> Message | None:
    """The last message the bot or an agent sent in a conversation."""
    result = await session.execute(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.author.in_(TO_PERSON))
        .order_by(Message.id.desc())
        .limit(1)
    )
    return result.scalars().first()


async def offered_payloads(
    session: AsyncSession, conversation_id: int, before: int, recent: int = 10
) -> set[str]:
    """The payloads of the buttons in the last `recent` messages sent to the person before
    message `before`: what a button the person pressed may carry."""
    result = await session.execute(
        select(Message.buttons)
        .where(
            Message.conversation_id == conversation_id,
            Message.author.in_(TO_PERSON),
            Message.id < before,
        )
        .order_by(Message.id.desc())
        .limit(recent)
    )
    return {
        button["payload"]
        for buttons in result.scalars()
        for button in buttons or []
        if isinstance(button, dict) and isinstance(button.get("payload"), str)
    }


async def last_from_person(session: AsyncSession, conversation_id: int) -> Message | None:
    """The last message the person sent in a conversation."""
    result = await session.execute(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.author == Author.USER)
        .order_by(Message.id.desc())
        .limit(1)
    )
    return result.scalars().first()
