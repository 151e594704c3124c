"""The gateway's turns and deliveries on a real SQLite database, with Rasa faked at the HTTP layer
(`httpx.MockTransport` under the real `RasaClient`): ordering, parallel conversations, duplicate
deliveries, retries, the apology, resuming after a restart, and the outbox's retries and failures.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from connectors.channel import Channel, DeliveryError, InboundMessage, numbered_options
from connectors.gateway import Gateway
from connectors.outbox import DeliveryPolicy, Outbox
from connectors.rasa_client import RasaClient
from connectors.turns import RetryPolicy, TurnRunner
from core import conversations as store
from core import db
from core.db import utcnow
from core.locks import LocalLocks
from core.ports import ConversationRef, NoDesk
from core.protocol import HandoffRequest, Reply, article_message
from triage.emergencies import SafetyLayer

pytestmark = pytest.mark.asyncio

Handler = Callable[[dict[str, Any]], Awaitable[httpx.Response]]


class FakeRasa:
    """Rasa's REST channel as the gateway sees it: answers each message with "eco: <text>"."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.failures_left = 0
        self.always_fail = False
        self.delay: dict[str, float] = {}  # text → seconds to think
        self.gates: dict[str, asyncio.Event] = {}  # text → wait for this before answering
        self.busy: dict[str, int] = defaultdict(int)
        self.max_busy: dict[str, int] = defaultdict(int)
        self.reply: Callable[[str], list[dict[str, Any]]] = lambda t: [{"text": f"eco: {t}"}]
        self.paused: set[str] = set()
        self.events: list[tuple[str, str]] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/tracker"):
            sender = request.url.path.split("/")[2]
            return httpx.Response(200, json={"sender_id": sender, "paused": sender in self.paused})
        body = json.loads(request.content)
        if request.url.path.endswith("/tracker/events"):  # pause / resume, as Rasa's API
            sender = request.url.path.split("/")[2]
            (self.paused.add if body["event"] == "pause" else self.paused.discard)(sender)
            self.events.append((sender, body["event"]))
            return httpx.Response(200, json={})
        sender, message = body["sender"], body["message"]
        if sender in self.paused:  # a paused conversation: Rasa logs the message, says nothing
            self.received.append((sender, message))
            return httpx.Response(200, json=[])
        self.received.append((sender, message))
        if self.always_fail or self.failures_left > 0:
            self.failures_left -= 1
            return httpx.Response(500, json={"error": "boom"})
        self.busy[sender] += 1
        self.max_busy[sender] = max(self.max_busy[sender], self.busy[sender])
        try:
            if message in self.gates:
                await self.gates[message].wait()
            await asyncio.sleep(self.delay.get(message, 0))
            return httpx.Response(200, json=self.reply(message))
        finally:
            self.busy[sender] -= 1


class RecordingChannel(Channel):
    name = "test"
    label = "Prueba"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []  # (sender, text)
        self.typing_events: list[tuple[str, bool]] = []
        self.fail_next: list[DeliveryError] = []

        self.templates: list[dict[str, Any] | None] = []  # each sent message's template
        self.approved: str | None = None  # the approved template outside a window, if any

    async def send(self, conversation: ConversationRef, message: store.Message) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sent.append((conversation.sender, numbered_options(message.text, message.buttons)))
        self.templates.append(message.template)

    def template(self, text: str) -> dict[str, Any] | None:
        return {"name": self.approved, "variables": {"1": text}} if self.approved else None

    async def typing(self, conversation: ConversationRef, on: bool) -> None:
        self.typing_events.append((conversation.sender, on))


class RecordingDesk(NoDesk):
    def __init__(self) -> None:
        self.requests: list[HandoffRequest] = []

    async def request(self, conversation: ConversationRef, request: HandoffRequest) -> list[Reply]:
        self.requests.append(request)
        return [{"text": "Te comunico con una persona.", "buttons": []}]


class House:
    """A gateway, its turns and its outbox over one database, as the app factory wires them."""

    def __init__(self, sessions: Any, rasa: FakeRasa, retry: RetryPolicy) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self.channel = RecordingChannel()
        self.desk = RecordingDesk()
        self.client = RasaClient(
            "http://rasa.test",
            timeout=5,
            client=httpx.AsyncClient(transport=httpx.MockTransport(rasa)),
        )
        channels = {self.channel.name: self.channel}
        self.outbox = Outbox(sessions, channels, DeliveryPolicy(first_delay=0.05, tick=0.05))
        self.turns = TurnRunner(
            sessions,
            self.client,
            self.desk,
            self.outbox,
            channels,
            LocalLocks(),
            SafetyLayer(),
            retry,
        )
        self.gateway = Gateway(sessions, self.turns, self.desk, max_message_chars=2000)

    async def send(self, sender: str, text: str, external_id: str | None = None) -> Any:
        return await self.gateway.accept(
            InboundMessage(channel="test", sender=sender, text=text, external_id=external_id)
        )

    async def settle(self) -> None:
        for _ in range(200):
            if not self.turns._workers and not self.outbox._tasks:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("turns did not finish")

    def sent_to(self, sender: str) -> list[str]:
        return [t for s, t in self.channel.sent if s == sender]

    async def statuses(self) -> list[tuple[str, str, str]]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(store.Message.author, store.Message.text, store.Message.status).order_by(
                    store.Message.id
                )
            )
            return [(a, t, s) for a, t, s in rows.all()]

    async def close(self) -> None:
        await self.turns.stop(timeout=5)
        await self.outbox.stop()
        await self.client.aclose()


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[Any]:
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    await asyncio.to_thread(db.migrate, url)
    engine = db.create_engine(url)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def house(database: Any) -> AsyncIterator[House]:
    built = House(db.session_factory(database), FakeRasa(), RetryPolicy(3, 0.01, 5))
    yield built
    await built.close()


async def test_a_conversations_messages_run_one_at_a_time_in_order(house: House) -> None:
    house.rasa.delay = {"uno": 0.15, "dos": 0.0, "tres": 0.05}
    for said in ("uno", "dos", "tres"):
        await house.send("ana", said)
    await house.settle()
    assert [m for _, m in house.rasa.received] == ["uno", "dos", "tres"]
    assert max(house.rasa.max_busy.values()) == 1  # never two of her turns at once in Rasa
    assert house.sent_to("ana") == ["eco: uno", "eco: dos", "eco: tres"]
    # The person sees "typing" around each turn, and every message ends done.
    assert house.channel.typing_events == [("ana", True), ("ana", False)] * 3
    assert {status for _, _, status in await house.statuses()} == {"done"}


async def test_conversations_run_in_parallel(house: House) -> None:
    # Ana's turn waits until Beto's has been answered: with one worker for all, it never would.
    house.rasa.gates["hola ana"] = asyncio.Event()
    await house.send("ana", "hola ana")
    await house.send("beto", "hola beto")
    for _ in range(100):
        if house.sent_to("beto"):
            break
        await asyncio.sleep(0.01)
    assert house.sent_to("beto") == ["eco: hola beto"] and house.sent_to("ana") == []
    house.rasa.gates["hola ana"].set()
    await house.settle()
    assert house.sent_to("ana") == ["eco: hola ana"]


async def test_a_duplicate_delivery_is_stored_once_and_answered_once(house: House) -> None:
    first = await house.send("ana", "hola", external_id="wamid.1")
    again = await house.send("ana", "hola", external_id="wamid.1")
    await house.settle()
    assert not first.duplicate and again.duplicate
    assert again.message.id == first.message.id
    assert house.rasa.received == [(first.conversation.key, "hola")]
    assert house.sent_to("ana") == ["eco: hola"]
    replies = await house.gateway.answer(again, timeout=1)
    assert [m.text for m in replies or []] == ["eco: hola"]


async def test_rasa_failing_is_retried_and_the_answer_arrives_once(house: House) -> None:
    house.rasa.failures_left = 2
    accepted = await house.send("ana", "hola")
    replies = await house.gateway.answer(accepted, timeout=5)
    assert [m.text for m in replies or []] == ["eco: hola"]
    assert len(house.rasa.received) == 3
    await house.settle()
    assert house.sent_to("ana") == ["eco: hola"]


async def test_rasa_down_past_the_retries_gets_an_apology_and_the_offer_of_a_person(
    house: House,
) -> None:
    house.rasa.always_fail = True
    accepted = await house.send("ana", "¿sigue abierto?")
    replies = await house.gateway.answer(accepted, timeout=5)
    assert replies is not None and "no puedo responder" in replies[0].text
    assert replies[0].buttons[0]["payload"] == "/request_human"
    assert len(house.rasa.received) == 4  # the first try and 3 retries
    await house.settle()
    assert ("user", "¿sigue abierto?", "failed") in await house.statuses()
    # Choosing "Hablar con una persona" works while the bot is still down.
    person = await house.gateway.accept(
        InboundMessage(channel="test", sender="ana", text="Hablar con una persona",
                       payload="/request_human")
    )  # fmt: skip
    replies = await house.gateway.answer(person, timeout=5)
    assert [m.text for m in replies or []] == ["Te comunico con una persona."]
    assert house.desk.requests[0].reason == "bot_unavailable"


async def test_the_synchronous_wait_gives_up_and_the_answer_comes_later(house: House) -> None:
    house.rasa.delay = {"despacio": 0.3}
    accepted = await house.send("ana", "despacio")
    assert await house.gateway.answer(accepted, timeout=0.05) is None
    later = await house.gateway.answer(accepted, timeout=5)
    assert [m.text for m in later or []] == ["eco: despacio"]


async def test_no_pooled_connection_is_held_while_rasa_thinks(database: Any) -> None:
    # One connection in all: if a turn held it while Rasa thinks, the query below would time out.
    engine = create_async_engine(database.url, pool_size=1, max_overflow=0, pool_timeout=1)
    sessions = db.session_factory(engine)
    rasa = FakeRasa()
    rasa.gates["piensa"] = asyncio.Event()
    house = House(sessions, rasa, RetryPolicy(0, 0.01, 5))
    try:
        accepted = await house.send("ana", "piensa")
        for _ in range(100):
            if rasa.received:
                break
            await asyncio.sleep(0.01)
        assert rasa.received  # Rasa is thinking now
        async with sessions() as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
        rasa.gates["piensa"].set()
        replies = await house.gateway.answer(accepted, timeout=5)
        assert [m.text for m in replies or []] == ["eco: piensa"]
    finally:
        await house.close()
        await engine.dispose()


async def test_a_restart_resumes_what_was_accepted_and_not_answered(database: Any) -> None:
    sessions = db.session_factory(database)
    before = House(sessions, FakeRasa(), RetryPolicy(0, 0.01, 5))
    await before.turns.stop(timeout=1)  # stopping: accepted, but no turn runs
    await before.send("ana", "¿me oyes?")
    await before.close()
    assert ("user", "¿me oyes?", "pending") in await before.statuses()

    after = House(sessions, FakeRasa(), RetryPolicy(0, 0.01, 5))
    try:
        assert await after.turns.resume() == 1
        await after.settle()
        assert after.sent_to("ana") == ["eco: ¿me oyes?"]
        assert await after.turns.resume() == 0  # nothing is run twice
    finally:
        await after.close()


async def test_a_failed_delivery_is_retried_in_order_and_a_final_failure_is_recorded(
    house: House,
) -> None:
    house.rasa.reply = lambda t: [{"text": f"{t} 1"}, {"text": f"{t} 2"}]
    house.channel.fail_next = [DeliveryError("proveedor caído")]
    await house.send("ana", "hola")
    await house.settle()
    assert house.sent_to("ana") == []  # the first one failed; the second waits behind it
    runner = asyncio.create_task(house.outbox.run())
    try:
        for _ in range(200):
            if len(house.sent_to("ana")) == 2:
                break
            await asyncio.sleep(0.01)
        assert house.sent_to("ana") == ["hola 1", "hola 2"]

        house.channel.fail_next = [DeliveryError("número inexistente", retry=False)]
        await house.send("ana", "otra")
        await house.settle()
        assert house.sent_to("ana")[2:] == ["otra 2"]  # a final failure does not block the rest
    finally:
        await house.outbox.stop()
        await runner
    async with house.sessions() as session:
        [(failed, conversation)] = await store.failed_deliveries(session)
    assert (failed.text, failed.error, failed.attempts) == ("otra 1", "número inexistente", 1)
    assert conversation.sender == "ana"


async def backdate_person(house: House, conversation_id: int, hours: float) -> None:
    """The person's messages as if written `hours` ago."""
    async with house.sessions() as session:
        await session.execute(
            update(store.Message)
            .where(
                store.Message.conversation_id == conversation_id,
                store.Message.author == store.Author.USER,
            )
            .values(created_at=utcnow() - timedelta(hours=hours))
        )
        await session.commit()


async def test_outside_the_window_a_message_goes_as_the_approved_template(house: House) -> None:
    """WhatsApp's 24-hour window: an agent's reply or a notice written 25 hours after the
    person's last message goes as the channel's approved template, kept on the message."""
    house.channel.window = timedelta(hours=24)
    house.channel.approved = "HX0123"
    accepted = await house.send("ana", "hola")
    await house.settle()
    assert house.channel.templates == [None]  # the answer to her message: inside the window

    await backdate_person(house, accepted.conversation.id, hours=23)
    await house.gateway.notify("test", "ana", "Tu cita es mañana.")
    await house.outbox.deliver(accepted.conversation.id)
    assert house.channel.templates[-1] is None  # 23 hours: still inside

    await backdate_person(house, accepted.conversation.id, hours=25)
    message = await house.gateway.notify("test", "ana", "Tu cita es hoy.")
    await house.outbox.deliver(accepted.conversation.id)
    expected = {"name": "HX0123", "variables": {"1": "Tu cita es hoy."}}
    assert house.channel.templates[-1] == expected
    async with house.sessions() as session:
        stored = await session.get(store.Message, message.id)
        assert stored is not None and stored.template == expected and stored.status == "done"


async def test_outside_the_window_without_a_template_a_message_fails_with_the_reason(
    house: House,
) -> None:
    house.channel.window = timedelta(hours=24)  # and no approved template (Messenger)
    accepted = await house.send("ana", "hola")
    await house.settle()
    await backdate_person(house, accepted.conversation.id, hours=30)
    await house.gateway.notify("test", "ana", "Seguimos en contacto.")
    await house.gateway.notify("test", "beto", "Nunca nos escribió.")  # no window ever opened
    await house.outbox.deliver(accepted.conversation.id)
    beto = await house.gateway.open_conversation("test", "beto")
    await house.outbox.deliver(beto.id)
    assert house.sent_to("ana") == ["eco: hola"] and house.sent_to("beto") == []
    async with house.sessions() as session:
        failed = await store.failed_deliveries(session)
    assert sorted((m.text, c.sender) for m, c in failed) == [
        ("Nunca nos escribió.", "beto"),
        ("Seguimos en contacto.", "ana"),
    ]
    assert all("fuera de la ventana de 24 horas" in m.error for m, _ in failed)
    assert all(m.attempts == 1 for m, _ in failed)  # not tried again


async def test_a_conversation_left_paused_by_a_failed_resume_is_resumed_at_the_next_turn(
    house: House,
) -> None:
    """An agent closed the handoff while Rasa was down: Rasa's tracker stayed paused. The next
    message gets an answer anyway: the gateway resumes the conversation and asks again."""
    accepted = await house.send("ana", "hola")
    await house.settle()
    key = accepted.conversation.key
    house.rasa.paused.add(key)  # what the failed resume left behind
    await house.send("ana", "¿sigues ahí?")
    await house.settle()
    assert house.sent_to("ana") == ["eco: hola", "eco: ¿sigues ahí?"]
    assert (key, "resume") in house.rasa.events and key not in house.rasa.paused

    # A turn the bot answers with nothing while not paused is left so: not asked twice.
    house.rasa.reply = lambda t: []
    await house.send("ana", "gracias")
    await house.settle()
    assert [m for _, m in house.rasa.received].count("gracias") == 1
    assert house.rasa.events.count((key, "resume")) == 1


async def test_a_message_claimed_by_another_process_is_not_sent_twice(house: House) -> None:
    house.rasa.reply = lambda t: [{"text": "una vez"}]
    await house.turns.stop(timeout=1)
    accepted = await house.send("ana", "hola")
    async with house.sessions() as session:
        store.queue_outbound(session, accepted.conversation.id, [{"text": "x", "buttons": []}])
        await session.commit()
        [pending] = await store.pending_outbound(session, accepted.conversation.id)
        # Another gateway claimed it a moment ago, for a minute.
        pending.retry_at = utcnow() + timedelta(seconds=60)
        await session.commit()
    await house.outbox.deliver(accepted.conversation.id)
    assert house.sent_to("ana") == []


async def test_a_turn_that_breaks_is_apologized_for_and_does_not_block_the_next(
    house: House,
) -> None:
    async def broken(conversation: ConversationRef, request: HandoffRequest) -> list[Reply]:
        raise RuntimeError("la fila no responde")

    house.desk.request = broken  # type: ignore[method-assign]
    house.rasa.reply = lambda t: (
        [{"custom": {"ventanilla": {"handoff": {"campaign": "pensionados"}}}}]
        if t == "una persona"
        else [{"text": f"eco: {t}"}]
    )
    await house.send("ana", "una persona")
    await house.send("ana", "hola")
    await house.settle()
    sent = house.sent_to("ana")
    assert "no puedo responder" in sent[0] and sent[1:] == ["eco: hola"]
    assert [s for a, _, s in await house.statuses() if a == "user"] == ["failed", "done"]


async def test_the_article_a_message_answers_from_is_stored_with_it(house: House) -> None:
    article = {"id": "obtener-nss", "title": "Obtener tu NSS", "source": "IMSS, gob.mx/imss"}
    house.rasa.reply = lambda text: [
        {"text": "Obtener tu NSS\nEntra a …"},
        {"custom": article_message(article)},  # type: ignore[arg-type]
        {"text": "¿Te sirvió esta respuesta?"},
    ]
    await house.send("nss", "¿cómo saco mi nss?")
    await house.settle()
    async with house.sessions() as session:
        conversation = await store.get_conversation(session, "test", "nss")
        assert conversation is not None
        sent = await store.sent_to_user(session, conversation, 0, 10)
    assert [(m.text.split("\n")[0], m.article) for m in sent] == [
        ("Obtener tu NSS", article),
        ("¿Te sirvió esta respuesta?", None),
    ]
    assert sent[0].as_dict()["article"] == article
