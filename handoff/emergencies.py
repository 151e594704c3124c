"""Emergencies in the queue: which emergency a handoff answers, its name for staff, and the
urgent handoffs nobody attends yet.

An emergency's handoff is urgent (core.protocol.emergency_handoff); the gateway puts its kind in
`context["alert"]`, the bot's request names its intent as `reason`. Read by the supervisors'
panel "Emergencias sin atender" (supervision.py) and the agents' queue entries (router.py).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import conversations as store
from core.accounts.access import scope
from core.accounts.models import User
from core.db import utcnow
from core.protocol import EMERGENCY_INTENTS, EmergencyKind, Priority
from handoff.models import QUEUED_STATUSES, Handoff, HandoffStatus

# An emergency that ended with nobody attending (the person left, or the queue timed out) stays
# on the supervisors' panel this long: someone may still need to call back.
ENDED_UNATTENDED_SHOWN = timedelta(hours=24)

# What staff read (es-MX).
LABELS: dict[EmergencyKind, str] = {
    EmergencyKind.INFARTO: "Posible infarto",
    EmergencyKind.SUICIDIO: "Riesgo suicida",
    EmergencyKind.RESPIRACION: "Dificultad grave para respirar",
    EmergencyKind.INCONSCIENTE: "Persona inconsciente",
}
UNKNOWN = "Emergencia"  # urgent, but neither an alert nor an emergency intent says which


def kind_of(handoff: Handoff) -> EmergencyKind | None:
    """The emergency a handoff answers: the gateway's alert, else the intent it was asked for."""
    alert = (handoff.context or {}).get("alert")
    if alert in set(EmergencyKind):
        return EmergencyKind(alert)
    return EMERGENCY_INTENTS.get(handoff.reason)


def label(handoff: Handoff) -> str | None:
    """The emergency's name for staff; None for a handoff that is not urgent."""
    if handoff.priority != Priority.URGENT:
        return None
    kind = kind_of(handoff)
    return LABELS[kind] if kind is not None else UNKNOWN


async def unattended(session: AsyncSession, user: User) -> list[tuple[Handoff, store.Conversation]]:
    """Urgent handoffs of `user`'s campaigns that no agent holds yet, and those of the last
    day that ended without one (abandoned, expired), oldest first."""
    result = await session.execute(
        select(Handoff, store.Conversation)
        .join(store.Conversation, store.Conversation.id == Handoff.conversation_id)
        .where(
            Handoff.priority == Priority.URGENT,
            or_(
                Handoff.status.in_(QUEUED_STATUSES),
                (Handoff.status.in_((HandoffStatus.ABANDONED, HandoffStatus.EXPIRED)))
                & Handoff.agent.is_(None)
                & (Handoff.created_at >= utcnow() - ENDED_UNATTENDED_SHOWN),
            ),
            Handoff.campaign.in_(scope(user)),
        )
        .order_by(Handoff.created_at, Handoff.id)
    )
    return [(h, c) for h, c in result.all()]
