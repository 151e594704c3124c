"""Turns: each conversation's pending messages, run one at a time, in order, off the request.

A channel's request ends when the message is committed to the inbox (`Gateway.accept`); then
`submit` makes sure a worker runs that conversation's pending messages. Conversations run in
parallel, each in its own task; one conversation's messages never do. A turn holds no database
connection while the bot thinks: it reads in one short session, asks Rasa, and writes the replies
to the outbox and marks the message done in another, in one transaction.

Rasa failing (down, starting, slow) is retried with backoff; past the last try the person gets an
apology with the offer of a person, never silence. A gateway that stops in the middle leaves the
message pending, and the next start runs it (`resume`).

Every typed message goes through the safety net first, whatever the conversation's mode or the
bot's form: an emergency is answered here (911, the crisis line), a top-priority handoff is opened
and the replies carry the alert, even with Rasa down. The bot can raise the same alert (the
classifier saw what the safety net did not); it is answered the same way.

Ordering is per process (`core.locks.LocalLocks`); a cross-process lease can take its place
through the same `ConversationLocks` interface.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.channel import Channel
from connectors.media import NOT_HEARD, Media, MediaUnavailable, kind_of
from connectors.media import reply as media_reply
from connectors.outbox import Outbox
from connectors.rasa_client import BotUnavailable, RasaClient
from core import conversations as store
from core.locks import ConversationLocks
from core.ports import ConversationRef, HumanDesk, SafetyNet, SpeechToText, SpeechUnavailable
from core.protocol import (
    BotRequests,
    EmergencyKind,
    HandoffRequest,
    Intent,
    Reply,
    emergency_handoff,
    read_request,
)

log = logging.getLogger(__name__)

REQUEST_HUMAN_PAYLOAD = f"/{Intent.REQUEST_HUMAN}"
MAX_TRANSCRIPT_CHARS = 2000  # a voice note's words kept as its text
APOLOGY: Reply = {
    "text": "Perdón, en este momento no puedo responder tu mensaje. Quedó guardado; puedes "
    "intentarlo de nuevo en unos minutos o, si lo prefieres, te comunico con una persona.",
    "buttons": [
        {"title": "Hablar con una persona", "payload": REQUEST_HUMAN_PAYLOAD},
        {"title": "Intentar más tarde", "payload": "/goodbye"},
    ],
}


async def screen_payload(
    message: store.Message, channel: Channel, offered: Callable[[], Awaitable[set[str]]]
) -> None:
    """What the bot may take from a message: a payload only when it is a button the bot offered
    (on channels whose client makes payloads), an intent in the text ("/request_human") only
    then too; anything else is read as the words it is. `offered` is read from the database
    only when there is something to check. Changes the message in memory only: what the person
    sent stays stored as sent."""
    known: set[str] | None = None

    async def was_offered(value: str) -> bool:
        nonlocal known
        if known is None:
            known = await offered()
        return value in known

    payload = message.payload
    if (
        payload is not None
        and channel.payloads_from_client
        and kind_of(payload) is None
        and not await was_offered(payload)
    ):
        log.info("message %s: a payload no button offered, read as text", message.id)
        message.payload = None
    said = message.text.strip()
    if (
        message.payload is None
        and not channel.slash_intents
        and said.startswith("/")
        and not await was_offered(said)
    ):
        message.text = said.lstrip("/").strip() or "?"


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3  # after the first attempt
    first_delay: float = 1.0  # seconds; doubled each time
    deadline: float = 90.0  # no new attempt starts later than this after the turn began

    def delays(self) -> list[float]:
        return [self.first_delay * 2**i for i in range(self.retries)]


class Stopping(Exception):
    """The gateway is stopping: the turn is left pending for the next start."""


class TurnRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        desk: HumanDesk,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        locks: ConversationLocks,
        safety: SafetyNet,
        retry: RetryPolicy | None = None,
        speech: SpeechToText | None = None,
        max_media_bytes: int = 10_000_000,
    ) -> None:
        self._sessions = sessions
        self._speech = speech  # voice notes are transcribed with it; None: answered politely
        self._max_media_bytes = max_media_bytes
        self._rasa = rasa
        self._desk = desk
        self._outbox = outbox
        self._channels = channels
        self._locks = locks
        self._safety = safety
        self._retry = retry or RetryPolicy()
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()
        self._watchers: dict[int, set[asyncio.Future[list[store.Message]]]] = {}
        self._stopping = asyncio.Event()

    # ---------------------------------------------------------------- scheduling

    def submit(self, conversation_id: int) -> None:
        """Make sure the conversation's pending messages get run (now, or after the current
        one)."""
        if self._stopping.is_set():
            return  # left pending: the next start runs it
        self._again.add(conversation_id)
        if conversation_id not in self._workers:
            task = asyncio.get_running_loop().create_task(
                self._work(conversation_id), name=f"turns-{conversation_id}"
            )
            self._workers[conversation_id] = task

    def watch(self, message_id: int) -> asyncio.Future[list[store.Message]]:
        """The replies to an inbound message, once its turn has run (`unwatch` it after)."""
        future: asyncio.Future[list[store.Message]] = asyncio.get_running_loop().create_future()
        self._watchers.setdefault(message_id, set()).add(future)
        return future

    def unwatch(self, message_id: int, future: asyncio.Future[list[store.Message]]) -> None:
        watchers = self._watchers.get(message_id)
        if watchers is not None:
            watchers.discard(future)
            if not watchers:
                del self._watchers[message_id]

    async def resume(self) -> int:
        """At start: run what an earlier process accepted and did not finish."""
        async with self._sessions() as session:
            pending = await store.conversations_with_pending_turns(session)
        for conversation_id in pending:
            self.submit(conversation_id)
        if pending:
            log.info("resuming the pending turns of %d conversation(s)", len(pending))
        return len(pending)

    async def stop(self, timeout: float) -> None:
        """Stop taking turns; let those under way finish (or leave them pending) in `timeout`."""
        self._stopping.set()
        workers = set(self._workers.values())
        if workers:
            await asyncio.wait(workers, timeout=timeout)

    async def _work(self, conversation_id: int) -> None:
        try:
            more = True
            while (more or conversation_id in self._again) and not self._stopping.is_set():
                self._again.discard(conversation_id)
                async with self._locks.hold(conversation_id):
                    ran = await self._run_next(conversation_id)
                if ran is None:
                    more = False
                    continue
                message_id, replies, more = ran
                for future in self._watchers.get(message_id, ()):
                    if not future.done():
                        future.set_result(replies)
        except Stopping:
            pass
        except Exception:
            # The database was unreachable, say: the message stays pending; the next message
            # of the conversation, or the next start, tries again.
            log.exception("the turns of conversation %s stopped", conversation_id)
        finally:
            self._workers.pop(conversation_id, None)
            self._again.discard(conversation_id)

    # ---------------------------------------------------------------- one turn

    async def _run_next(self, conversation_id: int) -> tuple[int, list[store.Message], bool] | None:
        """Run the conversation's oldest pending message: its id, its replies, and whether more
        messages are pending; None when there was none."""
        async with self._sessions() as session:
            turn = await store.next_pending_turn(session, conversation_id)
            if turn is None:
                return None
            message, ref, mode = turn.message, turn.conversation.ref, turn.conversation.mode
            channel = self._channels.get(ref.channel)
            if channel is not None:
                await screen_payload(
                    message,
                    channel,
                    partial(store.offered_payloads, session, ref.id, before=message.id),
                )
        pulled = channel is not None and channel.pulled
        if turn.first:
            await self._desk.conversation_started(ref)
        if channel is not None:
            await channel.typing(ref, True)
        try:
            try:
                replies, status, error = await self._answer(ref, mode, message)
            except Stopping:
                raise
            except Exception as exc:
                # A bug, or the handoff's database call failing: the person is not left in
                # silence, and this message does not block the ones after it on every retry.
                log.exception("the turn of message %s failed", message.id)
                replies, status, error = [APOLOGY], store.Status.FAILED, type(exc).__name__
            async with self._sessions() as session:
                stored = store.queue_outbound(
                    session, ref.id, replies, reply_to=message.id, delivered=pulled
                )
                await store.finish_turn(session, message.id, status, error)
                await session.commit()
            if not pulled:
                await self._outbox.deliver(ref.id, ref)
        finally:
            if channel is not None:
                await channel.typing(ref, False)
        return message.id, stored, turn.more

    async def _answer(
        self, ref: ConversationRef, mode: store.Mode, message: store.Message
    ) -> tuple[list[Reply], store.Status, str | None]:
        if kind_of(message.payload) == Media.AUDIO and self._speech is not None:
            words = await self._listen(ref, message)
            if not words:
                return [{"text": NOT_HEARD, "buttons": []}], store.Status.DONE, None
            message.text, message.payload = words, None  # on as if typed: safety net first
        # A button's payload is one the bot offered (the triage form's signs among them: the
        # form answers those), also when a channel sends it as the text ("/intent{…}"); what
        # the person typed is read for an emergency first.
        typed = message.payload is None and not message.text.startswith("/")
        kind = self._safety.emergency(message.text) if typed else None
        if kind is not None:
            return await self._emergency(ref, kind, message.text), store.Status.DONE, None
        if mode == store.Mode.HUMAN:
            answers = await self._desk.on_user_message(ref, message.text, message.payload)
            if answers is not None:
                return answers, store.Status.DONE, None
            # Nobody holds the conversation any more: the bot answers.
        media = kind_of(message.payload)
        if media is not None:  # a photo, a sticker, …: said what the bot can do, no Rasa
            return [media_reply(media)], store.Status.DONE, None
        try:
            items = await self._ask_bot(ref, message)
            if not items and await self._rasa.paused(ref.key):
                items = await self._unpause(ref, message)
        except BotUnavailable as exc:
            log.warning("Rasa did not answer conversation %s: %s", ref.id, exc)
            if (message.payload or message.text).strip() == REQUEST_HUMAN_PAYLOAD:
                # The person chose "Hablar con una persona" from the apology: no bot needed.
                queued = await self._desk.request(
                    ref, HandoffRequest.from_bot({"reason": "bot_unavailable"})
                )
                if queued:
                    return queued, store.Status.DONE, None
            return [APOLOGY], store.Status.FAILED, str(exc)[:255] or "bot_unavailable"
        return await self._carry_out(ref, items, message.text), store.Status.DONE, None

    async def _listen(self, ref: ConversationRef, message: store.Message) -> str:
        """A voice note's words ("" when none could be had): fetched through its channel,
        transcribed, and kept as the message's text (agents and transcripts read them)."""
        assert self._speech is not None
        channel = self._channels.get(ref.channel)
        if channel is None or not message.media:
            return ""
        try:
            audio, content_type = await channel.fetch_media(message.media, self._max_media_bytes)
            words = await self._speech.transcribe(audio, content_type)
        except (MediaUnavailable, SpeechUnavailable) as exc:
            log.warning("the voice note %s was not transcribed: %s", message.id, exc)
            return ""
        words = words[:MAX_TRANSCRIPT_CHARS]
        if words:
            async with self._sessions() as session:
                await store.set_transcript(session, message.id, words)
                await session.commit()
        return words

    async def _unpause(self, ref: ConversationRef, message: store.Message) -> list[dict[str, Any]]:
        """Rasa said nothing because its conversation is still paused, from a handoff whose
        resume failed (Rasa was down when the agent closed). Resume it and ask once more, so
        that the person is not met with silence."""
        log.warning("conversation %s was still paused in Rasa: resumed, asked again", ref.id)
        await self._rasa.add_event(ref.key, {"event": "resume"})
        return await self._ask_bot(ref, message)

    async def _ask_bot(self, ref: ConversationRef, message: store.Message) -> list[dict[str, Any]]:
        started = time.monotonic()
        delays = self._retry.delays()
        while True:
            if self._stopping.is_set():
                raise Stopping
            try:
                return await self._rasa.send(
                    ref.key,
                    message.payload or message.text,
                    metadata={"channel": ref.channel},
                )
            except BotUnavailable:
                if not delays or time.monotonic() - started + delays[0] > self._retry.deadline:
                    raise
                delay = delays.pop(0)
                try:  # wait, unless the gateway is stopping
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                except TimeoutError:
                    continue
                raise Stopping from None

    async def _carry_out(
        self, ref: ConversationRef, items: list[dict[str, Any]], said: str
    ) -> list[Reply]:
        """The bot's messages, with its requests to the gateway carried out in place."""
        replies: list[Reply] = []
        for item in items:
            if "custom" not in item:
                replies.append(Reply(text=item["text"], buttons=item.get("buttons") or []))
                continue
            requests = BotRequests()
            read_request(item["custom"], requests)
            if requests.article is not None and replies:
                replies[-1]["article"] = requests.article  # it names the message before it
            if requests.alert is not None:
                replies += await self._emergency(ref, requests.alert, said)
            if requests.handoff is not None:
                replies += await self._desk.request(ref, requests.handoff)
            if requests.csat is not None:
                await self._desk.record_csat(ref, requests.csat)
            if requests.callback is not None:
                await self._desk.record_callback(ref, requests.callback)
        return replies

    async def _emergency(self, ref: ConversationRef, kind: EmergencyKind, text: str) -> list[Reply]:
        """What the person is told first, then the top-priority handoff's answer (queued even
        with nobody online, so that supervisors see it)."""
        log.warning("emergency (%s) in conversation %s", kind, ref.id)
        replies = self._safety.replies(kind)
        try:
            replies += await self._desk.request(ref, emergency_handoff(kind, summary=text))
        except Exception:
            # The person has the 911 message whatever happens to the queue.
            log.exception("the emergency handoff of conversation %s failed", ref.id)
        return replies
