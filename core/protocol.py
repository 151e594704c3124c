"""The bot protocol: what the action server and the gateway say to each other, named once.

An action asks the gateway for a side effect with a custom message,
`{"ventanilla": {"handoff": {...}}}` (also `"csat"` and `"callback"`); Rasa's REST channel hands
it to the gateway as `{"custom": {"ventanilla": …}}`. Both sides build and read those shapes here,
and name intents, actions, campaigns and priorities from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from core.campaigns import CAMPAIGNS

REQUEST_KEY = "ventanilla"
DEFAULT_CAMPAIGN = "derechohabiente"


class Intent(StrEnum):
    REQUEST_HUMAN = "request_human"
    EMERGENCY_HEART_ATTACK = "emergency_heart_attack"
    EMERGENCY_SUICIDE = "emergency_suicide"
    EMERGENCY_BREATHING = "emergency_breathing"
    EMERGENCY_UNCONSCIOUS = "emergency_unconscious"
    NLU_FALLBACK = "nlu_fallback"


class EmergencyKind(StrEnum):
    """The emergencies that interrupt any flow, as channels and integrators see them
    (`"alert": {"kind": …}`)."""

    INFARTO = "infarto"
    SUICIDIO = "suicidio"
    RESPIRACION = "respiracion"
    INCONSCIENTE = "inconsciente"


class BotAction(StrEnum):
    """Actions the gateway runs in Rasa outside a user's turn."""

    HANDOFF_CLOSED = "action_handoff_closed"
    LISTEN = "action_listen"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


@dataclass(frozen=True)
class Emergency:
    kind: EmergencyKind
    intent: Intent  # the classifier's name for it
    campaign: str  # the queue of its top-priority handoff


# The one list of emergencies of the project: the safety layer, the classifier's intents, the
# handoff and the channels' alerts all read it. Emergencies go first in their queue.
EMERGENCIES: dict[EmergencyKind, Emergency] = {
    EmergencyKind.INFARTO: Emergency(
        EmergencyKind.INFARTO, Intent.EMERGENCY_HEART_ATTACK, "codigo_infarto"
    ),
    EmergencyKind.SUICIDIO: Emergency(
        EmergencyKind.SUICIDIO, Intent.EMERGENCY_SUICIDE, "salud_mental"
    ),
    EmergencyKind.RESPIRACION: Emergency(
        EmergencyKind.RESPIRACION, Intent.EMERGENCY_BREATHING, "omt_covid"
    ),
    EmergencyKind.INCONSCIENTE: Emergency(
        EmergencyKind.INCONSCIENTE, Intent.EMERGENCY_UNCONSCIOUS, "codigo_infarto"
    ),
}
EMERGENCY_INTENTS: dict[str, EmergencyKind] = {e.intent: e.kind for e in EMERGENCIES.values()}


class Button(TypedDict):
    title: str
    payload: str


class ArticleRef(TypedDict):
    """The knowledge-base article a message answers from, as integrators and reports see it."""

    id: str
    title: str
    source: str


class Reply(TypedDict):
    """One message for a person, as every channel receives it before rendering."""

    text: str
    buttons: list[Button]
    alert: NotRequired[str]  # the EmergencyKind this message answers
    article: NotRequired[ArticleRef]  # the article it answers from


def campaign_or_default(value: Any) -> str:
    return value if isinstance(value, str) and value in CAMPAIGNS else DEFAULT_CAMPAIGN


@dataclass(frozen=True)
class HandoffRequest:
    campaign: str
    priority: Priority = Priority.NORMAL
    reason: str = Intent.REQUEST_HUMAN
    summary: str = ""
    context: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_bot(cls, data: dict[str, Any]) -> HandoffRequest:
        """The action's request, with unknown values replaced by safe ones."""
        priority = data.get("priority")
        return cls(
            campaign=campaign_or_default(data.get("campaign")),
            priority=Priority(priority) if priority in set(Priority) else Priority.NORMAL,
            reason=str(data.get("reason") or Intent.REQUEST_HUMAN)[:64],
            summary=str(data.get("summary") or "")[:1000],
            context=data.get("context") if isinstance(data.get("context"), dict) else {},
        )


def emergency_handoff(kind: EmergencyKind, summary: str = "") -> HandoffRequest:
    """The top-priority handoff an emergency opens."""
    emergency = EMERGENCIES[kind]
    return HandoffRequest(
        campaign=emergency.campaign,
        priority=Priority.URGENT,
        reason=str(emergency.intent),
        summary=summary[:1000],
        context={"alert": str(kind)},
    )


@dataclass(frozen=True)
class CallbackRequest:
    campaign: str
    phone: str
    preferred_time: str

    @classmethod
    def from_bot(cls, data: dict[str, Any]) -> CallbackRequest:
        return cls(
            campaign=campaign_or_default(data.get("campaign")),
            phone=str(data.get("phone", ""))[:32],
            preferred_time=str(data.get("preferred_time", ""))[:255],
        )


# ---------------------------------------------------------------- the action server's side


def handoff_message(request: dict[str, Any]) -> dict[str, Any]:
    return {REQUEST_KEY: {"handoff": request}}


def alert_message(kind: EmergencyKind) -> dict[str, Any]:
    """The action server saw an emergency the gateway's safety layer did not: the gateway answers
    it (its messages, the top-priority handoff, the alert) exactly as its own."""
    return {REQUEST_KEY: {"alert": {"kind": str(kind)}}}


def article_message(article: ArticleRef) -> dict[str, Any]:
    """Names the article that the message just before it answers from."""
    return {REQUEST_KEY: {"article": dict(article)}}


def csat_message(score: int) -> dict[str, Any]:
    return {REQUEST_KEY: {"csat": score}}


def callback_message(request: dict[str, Any]) -> dict[str, Any]:
    return {REQUEST_KEY: {"callback": request}}


# ---------------------------------------------------------------- the gateway's side


@dataclass
class BotRequests:
    """What one bot turn asked the gateway to do, besides its messages."""

    handoff: HandoffRequest | None = None
    csat: int | None = None
    callback: CallbackRequest | None = None
    alert: EmergencyKind | None = None
    article: ArticleRef | None = None


def read_request(custom: Any, into: BotRequests) -> None:
    """Fold one `custom` payload of the bot's into `into`; anything else is ignored."""
    request = custom.get(REQUEST_KEY) if isinstance(custom, dict) else None
    if not isinstance(request, dict):
        return
    if isinstance(request.get("handoff"), dict):
        into.handoff = HandoffRequest.from_bot(request["handoff"])
    if "csat" in request:
        try:
            score = int(request["csat"])
        except (TypeError, ValueError):
            score = 0
        if 1 <= score <= 5:
            into.csat = score
    if isinstance(request.get("callback"), dict):
        into.callback = CallbackRequest.from_bot(request["callback"])
    article = request.get("article")
    if isinstance(article, dict) and all(
        isinstance(article.get(key), str) for key in ("id", "title", "source")
    ):
        into.article = ArticleRef(
            id=article["id"][:120], title=article["title"][:300], source=article["source"][:500]
        )
    alert = request.get("alert")
    if isinstance(alert, dict) and alert.get("kind") in set(EmergencyKind):
        into.alert = EmergencyKind(alert["kind"])
