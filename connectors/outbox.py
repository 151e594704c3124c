"""Delivers the outbox: every message for a person, whoever wrote it, through its channel.

A message is committed as `pending` first (by a turn, an agent, a queue notice); then `deliver`
hands the conversation's pending messages to its channel one by one, in order. A message the
channel could not take is tried again with backoff (later ones wait behind it, so a person never
reads them out of order); after the last attempt it is `failed`, with the reason, and the
supervisors' page lists it. On start, and every tick, whatever is still pending and due is
delivered, so a restart loses nothing.

Before sending, a message is claimed for a short lease by a conditional UPDATE: with several
gateway processes on one database, exactly one sends each message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.channel import Channel, DeliveryError
from core import conversations as store
from core.db import utcnow
from core.locks import LocalLocks
from core.ports import ConversationRef
from core.privacy import mask_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy:
    attempts: int = 5  # in all, the first included
    first_delay: float = 2.0  # seconds before the second attempt; doubled each time
    max_delay: float = 300.0
    lease: float = 60.0  # how long a claimed message is left to its sender
    tick: float = 1.0  # how often pending and due messages are looked for

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th failed attempt (1-based)."""
        return min(self.first_delay * 2 ** (attempt - 1), self.max_delay)


class Outbox:
    """`core.ports.Postman` for the features; the delivery loop for the gateway."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        policy: DeliveryPolicy | None = None,
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._policy = policy or DeliveryPolicy()
        self._locks = LocalLocks()
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def wake(self, conversation_id: int) -> None:
        """Deliver the conversation's pending messages soon, without waiting for it."""
        task = asyncio.get_running_loop().create_task(self._deliver_safely(conversation_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, conversation_id: int, ref: ConversationRef | None = None) -> None:
        """Deliver the conversation's pending, due messages now, in order."""
        async with self._locks.hold(conversation_id):
            async with self._sessions() as session:
                if ref is None:
                    conversation = await session.get(store.Conversation, conversation_id)
                    if conversation is None:
                        return
                    ref = conversation.ref
                channel = self._channels.get(ref.channel)
                if channel is not None and channel.pulled:  # stored is delivered: no claim
                    due = await store.pending_outbound(session, conversation_id, utcnow())
                    await store.mark_delivered(session, [m.id for m in due])
                    await session.commit()
                    return
                pending = await self._claim(session, conversation_id)
                heard = None
                if pending and channel is not None and channel.window is not None:
                    last = await store.last_from_person(session, conversation_id)
                    heard = last.created_at if last is not None else None
            if not pending:
                return
            tried: list[int] = []
            sent: list[int] = []
            try:
                for message in pending:
                    tried.append(message.id)
                    try:
                        if channel is None:
                            raise DeliveryError(f"canal desconocido: {ref.channel}", retry=False)
                        await self._mind_window(channel, message, heard)
                        await channel.send(ref, message)
                    except DeliveryError as exc:
                        if await self._failed(message, exc.reason, exc.retry, exc.parts_sent):
                            break  # tried again later; the ones after it wait behind it
                        continue  # failed for good: it no longer holds the others back
                    except Exception as exc:  # a bug in a channel must not stop the others
                        log.exception("channel %s failed on message %s", ref.channel, message.id)
                        if await self._failed(message, f"{type(exc).__name__}: {exc}", True):
                            break
                        continue
                    sent.append(message.id)
            finally:
                await self._settle(sent, [m.id for m in pending if m.id not in tried])

    async def _claim(self, session: AsyncSession, conversation_id: int) -> list[store.Message]:
        """The conversation's pending and due messages, in order, claimed for a lease: the
        longest first run of them that no other process holds."""
        now = utcnow()
        pending = await store.pending_outbound(session, conversation_id, now)
        if not pending:
            return []
        result = await session.execute(
            update(store.Message)
            .where(
                store.Message.id.in_([m.id for m in pending]),
                store.Message.status == store.Status.PENDING,
                (store.Message.retry_at.is_(None)) | (store.Message.retry_at <= now),
            )
            .values(retry_at=now + timedelta(seconds=self._policy.lease))
            .returning(store.Message.id)
            .execution_options(synchronize_session=False)
        )
        claimed = set(result.scalars())
        await session.commit()
        run = []
        for message in pending:
            if message.id not in claimed:
                break  # another process is sending it: it keeps the order from here
            run.append(message)
        return run

    async def _settle(self, sent: list[int], untried: list[int]) -> None:
        """Mark what was sent; give back the claims of what was not tried."""
        async with self._sessions() as session:
            if sent:
                await store.mark_delivered(session, sent)
            if untried:
                await session.execute(
                    update(store.Message)
                    .where(
                        store.Message.id.in_(untried), store.Message.status == store.Status.PENDING
                    )
                    .values(retry_at=None)
                    .execution_options(synchronize_session=False)
                )
            await session.commit()

    async def _mind_window(
        self, channel: Channel, message: store.Message, heard: datetime | None
    ) -> None:
        """Outside the channel's customer-service window (WhatsApp, Messenger: 24 hours after
        the person's last message) a message goes as the channel's approved template, kept on
        the message; without one it cannot go, and fails for good with the reason said."""
        window = channel.window
        if window is None or message.template or (heard and utcnow() - heard < window):
            return
        template = channel.template(message.text)
        if template is None:
            hours = int(window.total_seconds() // 3600)
            raise DeliveryError(
                f"fuera de la ventana de {hours} horas de {channel.label}: la persona no ha "
                "escrito en ese tiempo y no hay una plantilla aprobada configurada",
                retry=False,
            )
        message.template = template
        async with self._sessions() as session:
            await store.set_template(session, message.id, template)
            await session.commit()

    async def _failed(
        self, message: store.Message, reason: str, retry: bool, parts_sent: int | None = None
    ) -> bool:
        """Record a failed attempt (`parts_sent`: of a message in parts, those that went out);
        True when the message will be tried again."""
        attempts = message.attempts + 1
        again = retry and attempts < self._policy.attempts
        reason = mask_text(reason)  # a provider's error may quote the person's number
        async with self._sessions() as session:
            if again:
                retry_at = utcnow() + timedelta(seconds=self._policy.delay(attempts))
                await store.mark_retry(session, message.id, attempts, retry_at, reason, parts_sent)
                log.warning(
                    "delivery of message %s failed (attempt %s): %s", message.id, attempts, reason
                )
            else:
                await store.mark_failed(session, message.id, attempts, reason)
                log.error(
                    "delivery of message %s failed for good after %s attempt(s): %s",
                    message.id,
                    attempts,
                    reason,
                )
            await session.commit()
        return again

    async def _deliver_safely(self, conversation_id: int) -> None:
        try:
            await self.deliver(conversation_id)
        except Exception:  # the database was busy, say: the loop tries again at its next tick
            log.exception("delivery for conversation %s failed", conversation_id)

    async def run(self) -> None:
        """Until `stop()`: deliver whatever is pending and due (left by a restart, or retries)."""
        while not self._stopping.is_set():
            try:
                async with self._sessions() as session:
                    due = await store.conversations_with_pending_outbound(session, utcnow())
                for conversation_id in due:
                    await self._deliver_safely(conversation_id)
            except Exception:
                log.exception("outbox tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._policy.tick)

    async def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
