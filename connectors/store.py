"""Conversations and their messages, as the gateway stores them (every channel, both directions).

A conversation is one (channel, sender) pair. Rasa only ever sees the conversation's opaque `key`,
never the provider's sender id (a phone number on WhatsApp or SMS).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ventanilla.db import Base, utcnow


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "sender", name="uq_conversation_channel_sender"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(255))
    mode: Mapped[str] = mapped_column(String(16), default="bot")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    # A provider's message id is stored once per conversation: a redelivery is a duplicate.
    __table_args__ = (
        UniqueConstraint("conversation_id", "external_id", name="uq_message_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    author: Mapped[str] = mapped_column(String(16))  # user | bot | agent
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text, default=None)
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        created = self.created_at if self.created_at.tzinfo else self.created_at.replace(tzinfo=UTC)
        return {
            "id": self.id,
            "from": self.author,
            "text": self.text,
            "buttons": list(self.buttons or []),
            "ts": created.isoformat(),
            "client_id": self.external_id if self.author == "user" else None,
        }


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


async def add_user_message(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    payload: str | None,
    external_id: str | None,
) -> Message | None:
    """Store an inbound message; None when its external id was stored already (a duplicate)."""
    message = Message(
        conversation_id=conversation.id,
        author="user",
        text=text,
        payload=payload,
        external_id=external_id,
    )
    session.add(message)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        await session.refresh(conversation)  # the rollback expired it
        return None
    return message


async def is_first_user_message(session: AsyncSession, message: Message) -> bool:
    result = await session.execute(
        select(Message.id)
        .where(Message.conversation_id == message.conversation_id, Message.author == "user")
        .order_by(Message.id)
        .limit(1)
    )
    return result.scalar_one_or_none() == message.id


async def find_by_external_id(
    session: AsyncSession, conversation: Conversation, external_id: str
) -> Message | None:
    result = await session.execute(
        select(Message).where(
            Message.conversation_id == conversation.id, Message.external_id == external_id
        )
    )
    return result.scalar_one_or_none()


async def add_replies(
    session: AsyncSession,
    conversation: Conversation,
    reply_to: Message | None,
    replies: list[dict[str, Any]],
    author: str = "bot",
) -> list[Message]:
    """Store messages sent to the user: the bot's answers to `reply_to`, or sent on their own."""
    stored = [
        Message(
            conversation_id=conversation.id,
            author=author,
            text=reply["text"],
            buttons=reply.get("buttons", []),
            reply_to_id=reply_to.id if reply_to is not None else None,
        )
        for reply in replies
    ]
    session.add_all(stored)
    await session.commit()
    return stored


async def replies_to(session: AsyncSession, message: Message) -> list[Message]:
    result = await session.execute(
        select(Message).where(Message.reply_to_id == message.id).order_by(Message.id)
    )
    return list(result.scalars())


async def history(
    session: AsyncSession, conversation: Conversation, after: int = 0, limit: int | None = None
) -> list[Message]:
    query = (
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.id > after)
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
            Message.author.in_(("bot", "agent")),
        )
        .order_by(Message.id)
        .limit(limit)
    )
    return list(result.scalars())
