"""The agents' desk: claim, take next, decline, reply, note, close, transfer.

Called by the agents' API (router.py) on behalf of a staff member, outside the user's turn: what
the user must hear goes through the outbox (`events.deliver`), and the consoles are told on the
bus. Who may do what is checked here with access.py; two agents claiming one handoff are settled by
a conditional UPDATE (one gets a 409).
"""

from __future__ import annotations

from sqlalchemy import select, update

from core import conversations as store
from core.accounts.models import User
from core.campaigns import CAMPAIGNS
from core.db import utcnow
from core.protocol import BotAction
from handoff import canned, events, messages, queries, routing
from handoff.access import HandoffError, assigned_to, visible
from handoff.context import HandoffContext, Ticks, won
from handoff.events import ConsoleUpdate
from handoff.models import (
    QUEUED_STATUSES,
    AgentPresence,
    EventKind,
    Handoff,
    HandoffNote,
    HandoffStatus,
)
from handoff.presence import presence_row
from handoff.queries import seconds_between
from handoff.queueing import withdraw_offer

DISPOSITIONS: dict[str, str] = {
    "resuelto": "Resuelto",
    "informacion_proporcionada": "Información proporcionada",
    "canalizado": "Canalizado a otra área o trámite presencial",
    "cita_agendada": "Cita agendada",
    "seguimiento": "Requiere seguimiento",
    "sin_respuesta": "El usuario dejó de responder",
    "fuera_de_alcance": "Fuera del alcance del Instituto",
    "emergencia": "Emergencia canalizada a 911 / urgencias",
}


class Desk:
    def __init__(self, context: HandoffContext, ticks: Ticks) -> None:
        self._context = context
        self._ticks = ticks

    async def claim(self, user: User, handoff_id: int) -> Handoff:
        """Take a waiting handoff, or accept one's offer; 409 when someone else was first."""
        async with self._context.sessions() as session:
            handoff = await visible(session, user, handoff_id)
            if user.role == "agent":
                load = await queries.load(session, user.username, exclude=handoff.id)
                presence = await presence_row(self._context.settings, session, user.username)
                if load >= presence.max_conversations:
                    raise HandoffError(
                        409,
                        "at_capacity",
                        f"Ya atiendes {load} conversaciones, el máximo. Cierra una para tomar "
                        "otra.",
                    )
            now = utcnow()
            result = await session.execute(
                update(Handoff)
                .where(
                    Handoff.id == handoff_id,
                    (Handoff.status == HandoffStatus.WAITING)
                    | (
                        (Handoff.status == HandoffStatus.OFFERED)
                        & (Handoff.offered_to == user.username)
                    ),
                )
                .values(
                    status=HandoffStatus.ASSIGNED,
                    agent=user.username,
                    assigned_at=now,
                    offered_to=None,
                )
                .execution_options(synchronize_session=False)
            )
            if not won(result):
                await session.rollback()
                await session.refresh(handoff)
                if handoff.status == HandoffStatus.ASSIGNED and handoff.agent == user.username:
                    return handoff  # claimed twice by the same agent: nothing to do
                raise HandoffError(
                    409,
                    "not_available",
                    "Esta conversación ya no está en la fila: otra persona "
                    "la tomó o el usuario se fue.",
                )
            events.record_for(
                session,
                EventKind.ASSIGNED,
                handoff,
                at=now,
                agent=user.username,
                value=seconds_between(handoff.created_at, now),
            )
            await session.execute(
                update(AgentPresence)
                .where(AgentPresence.username == user.username)
                .values(last_assigned_at=now)
            )
            await session.commit()
            await session.refresh(handoff)
            conversation = await session.get(store.Conversation, handoff.conversation_id)
            assert conversation is not None
            await events.deliver(
                self._context, session, conversation, [messages.assigned(handoff.campaign)]
            )
        await events.console(self._context, ConsoleUpdate.QUEUE, handoff)
        return handoff

    async def take_next(self, user: User) -> Handoff | None:
        """Tomar siguiente (take next): the first conversation of my campaigns I may take."""
        async with self._context.sessions() as session:
            result = await session.execute(
                select(Handoff).where(
                    Handoff.status.in_(QUEUED_STATUSES),
                    Handoff.campaign.in_(user.campaigns or list(CAMPAIGNS)),
                )
            )
            candidates = [
                h
                for h in result.scalars()
                if h.status == HandoffStatus.WAITING or h.offered_to == user.username
            ]
        for entry in routing.queue_order(queries.waiting_entries(candidates)):
            try:
                return await self.claim(user, entry.conversation_id)
            except HandoffError as exc:
                if exc.code == "at_capacity":
                    raise
        return None

    async def decline(self, user: User, handoff_id: int) -> None:
        """Turn an offer down: back to the queue, offered to someone else (never to `user`)."""
        async with self._context.sessions() as session:
            handoff = await visible(session, user, handoff_id)
            await withdraw_offer(
                self._context,
                session,
                handoff,
                user.username,
                EventKind.OFFER_DECLINED,
                why="declined",
            )

    async def reply(self, user: User, handoff_id: int, text: str) -> store.Message:
        """The assigned agent's message to the user (`/codigo` expands a canned response)."""
        async with self._context.sessions() as session:
            handoff = await assigned_to(session, user, handoff_id)
            text = canned.expand(handoff.campaign, text)
            conversation = await session.get(store.Conversation, handoff.conversation_id)
            assert conversation is not None
            async with self._context.locks.hold(conversation.id):
                now = utcnow()
                if handoff.first_response_at is None:
                    handoff.first_response_at = now
                    events.record_for(
                        session,
                        EventKind.FIRST_RESPONSE,
                        handoff,
                        at=now,
                        agent=user.username,
                        channel=conversation.channel,
                        value=seconds_between(handoff.created_at, now),
                    )
                [message] = await events.deliver(
                    self._context,
                    session,
                    conversation,
                    [{"text": text, "buttons": []}],
                    store.Author.AGENT,
                )
        await events.console(self._context, ConsoleUpdate.CONVERSATION, handoff)
        return message

    async def note(self, user: User, handoff_id: int, text: str) -> HandoffNote:
        """An internal note: staff see it, the user never does."""
        async with self._context.sessions() as session:
            handoff = await visible(session, user, handoff_id)
            note = HandoffNote(handoff_id=handoff.id, author=user.username, text=text)
            session.add(note)
            await session.commit()
        await events.console(self._context, ConsoleUpdate.CONVERSATION, handoff)
        return note

    async def close(self, user: User, handoff_id: int, disposition: str) -> Handoff:
        """Close with a disposition code: the bot takes the conversation back (and asks the
        survey)."""
        if disposition not in DISPOSITIONS:
            raise HandoffError(
                400,
                "unknown_disposition",
                f"Código de cierre desconocido. Códigos: {', '.join(DISPOSITIONS)}.",
            )
        async with self._context.sessions() as session:
            handoff = await assigned_to(session, user, handoff_id, supervisor_ok=True)
            conversation = await session.get(store.Conversation, handoff.conversation_id)
            assert conversation is not None
            async with self._context.locks.hold(conversation.id):
                now = utcnow()
                result = await session.execute(
                    update(Handoff)
                    .where(Handoff.id == handoff.id, Handoff.status == HandoffStatus.ASSIGNED)
                    .values(status=HandoffStatus.CLOSED, closed_at=now, disposition=disposition)
                    .execution_options(synchronize_session=False)
                )
                if not won(result):
                    await session.rollback()
                    raise HandoffError(409, "not_open", "Esta conversación ya estaba cerrada.")
                conversation.mode = store.Mode.BOT
                events.record_for(
                    session,
                    EventKind.CLOSED,
                    handoff,
                    at=now,
                    agent=handoff.agent,
                    channel=conversation.channel,
                    value=(
                        seconds_between(handoff.assigned_at, now)
                        if handoff.assigned_at is not None
                        else None
                    ),
                    detail={"disposition": disposition, "closed_by": user.username},
                )
                await session.commit()
                await session.refresh(handoff)
                replies = await self._context.bot.resume(conversation.ref, BotAction.HANDOFF_CLOSED)
                await events.deliver(
                    self._context, session, conversation, replies or [messages.closed_fallback()]
                )
        await events.console(self._context, ConsoleUpdate.QUEUE, handoff)
        return handoff

    async def transfer(self, user: User, handoff_id: int, campaign: str) -> Handoff:
        """To another campaign's queue: its place starts again there, its clocks do not."""
        if campaign not in CAMPAIGNS:
            raise HandoffError(400, "unknown_campaign", "Esa campaña no existe.")
        async with self._context.sessions() as session:
            handoff = await assigned_to(session, user, handoff_id, supervisor_ok=True)
            if handoff.campaign == campaign:
                raise HandoffError(400, "same_campaign", "La conversación ya es de esa campaña.")
            previous = handoff.campaign
            now = utcnow()
            result = await session.execute(
                update(Handoff)
                .where(Handoff.id == handoff.id, Handoff.status == HandoffStatus.ASSIGNED)
                .values(
                    status=HandoffStatus.WAITING,
                    campaign=campaign,
                    agent=None,
                    enqueued_at=now,
                    declined_by=[],
                    offered_to=None,
                )
                .execution_options(synchronize_session=False)
            )
            if not won(result):
                await session.rollback()
                raise HandoffError(409, "not_open", "Esta conversación ya no está abierta.")
            events.record(
                session,
                EventKind.TRANSFERRED,
                at=now,
                campaign=campaign,
                conversation_id=handoff.conversation_id,
                handoff_id=handoff.id,
                agent=user.username,
                detail={"from": previous},
            )
            await session.commit()
            await session.refresh(handoff)
            conversation = await session.get(store.Conversation, handoff.conversation_id)
            assert conversation is not None
            position = await queries.position(session, handoff) or 1
            eta = await queries.eta_minutes(session, self._context.settings, campaign, position)
            handoff.notified_position = position
            await session.commit()
            await events.deliver(
                self._context,
                session,
                conversation,
                [messages.transferred(campaign, position, eta)],
            )
        await events.console(
            self._context, ConsoleUpdate.QUEUE, handoff, previous_campaign=previous
        )
        await self._ticks.tick_now()
        return handoff
