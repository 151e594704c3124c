"""Dashboard and monthly figures of the handoff queue: pure functions over `handoff_events` rows.

Definitions (handoff/README.md, shared/reference/DOMAIN.md). Clocks start at the handoff
(`queued`), never at the conversation's start.

* Service level = handoffs answered (the agent's first reply, `first_response`) within the
  campaign's threshold ÷ (answered + abandoned + expired). Abandons and expiries count as misses,
  however soon the user left: there is no "short abandon" exclusion.
* ASA = mean seconds from `queued` to `first_response`.
* Abandonment = abandoned ÷ queued. A campaign's queued counts every entry into its queue: first
  queued there or transferred into it. The "__all__" total counts each handoff once (its `queued`
  event): a transfer is not a new arrival for the contact center as a whole.
* AHT = mean seconds from `assigned` to `closed` (the `closed` event's value).
* Containment = conversations started with no `queued` event for the same conversation since it
  started ÷ conversations started.
* CSAT = share of 4–5 among the survey answers (1–5).

Flow figures count the events of a period; live figures (waiting, longest wait, agents) replay
every event up to `now`. A rate is None when its denominator is 0, never 0 %.

Offers (`offered`, `offer_expired`, `offer_declined`) count in no figure; the live replay only reads
them as "still waiting". Before `offer_declined` existed a decline was written as `offer_expired`
with detail.why = "declined": a count of offers not accepted in time must leave those out.

Called by the supervisors' API (supervision.py) with `handoff_events` rows, whose timestamps are
timezone-aware (`core.db.UtcDateTime`). An `Event` built by hand (tests, imports) may carry a
naive timestamp, and a caller may pass naive `now`/`since`: those are read as UTC (`_aware`).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from handoff.models import AgentStatus, EventKind

ALL = "__all__"
MEXICO_CITY = ZoneInfo("America/Mexico_City")
# Seconds to the first reply that still count as answered in time, for campaigns not configured.
DEFAULT_THRESHOLD_SECONDS = 60

# Queue events that leave a handoff waiting, and those that take it out of the queue for good.
_QUEUE_ENTRY = (EventKind.QUEUED, EventKind.TRANSFERRED)
_OFFER = (EventKind.OFFERED, EventKind.OFFER_EXPIRED, EventKind.OFFER_DECLINED)
_ENDED = (EventKind.ABANDONED, EventKind.EXPIRED, EventKind.CLOSED)


class EventLike(Protocol):
    """What the functions read from an event: a `HandoffEvent` row or an `Event`."""

    @property
    def kind(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def campaign(self) -> str | None: ...
    @property
    def conversation_id(self) -> int | None: ...
    @property
    def handoff_id(self) -> int | None: ...
    @property
    def agent(self) -> str | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def value(self) -> float | None: ...
    @property
    def detail(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Event:
    """An event built by hand (tests, imports) with the columns of `HandoffEvent`."""

    kind: str
    created_at: datetime
    campaign: str | None = None
    conversation_id: int | None = None
    handoff_id: int | None = None
    agent: str | None = None
    channel: str | None = None
    value: float | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignFigures:
    campaign: str
    # live, from every event up to `now`
    waiting: int
    longest_wait_seconds: float | None
    agents_online: int
    agents_busy: int
    # flow, from the events of the period
    queued: int
    answered: int
    answered_within: int
    abandoned: int
    expired: int
    service_level: float | None
    asa_seconds: float | None
    abandonment_rate: float | None
    closed: int
    aht_seconds: float | None
    csat_responses: int
    csat: float | None
    unavailable: int


@dataclass(frozen=True)
class Containment:
    conversations: int
    bot_resolved: int
    rate: float | None


@dataclass(frozen=True)
class HourBucket:
    hour: int  # local hour, 0–23
    start: datetime  # local start of the hour
    queued: int
    answered: int
    abandoned: int
    closed: int


@dataclass(frozen=True)
class MonthlyRow:
    campaign: str
    conversations: int
    bot_resolved: int | None
    handoffs: int
    answered: int
    abandoned: int
    handled_seconds: float
    aht_seconds: float | None
    service_level: float | None
    csat: float | None


# --- helpers ---------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    """A caller's naive moment read as UTC (database rows are aware already)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _when(event: EventLike) -> datetime:
    return _aware(event.created_at)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _threshold_lookup(thresholds: Mapping[str, int], default: int) -> Callable[[str | None], int]:
    def threshold_of(campaign: str | None) -> int:
        return thresholds.get(campaign, default) if campaign is not None else default

    return threshold_of


@dataclass
class _Flow:
    """Counts of the events of one period, for one campaign or for all of them."""

    queued: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    expired: int = 0
    closed: int = 0
    unavailable: int = 0
    response_seconds: list[float] = field(default_factory=list)
    handled_seconds: list[float] = field(default_factory=list)
    csat_values: list[float] = field(default_factory=list)

    @property
    def service_level(self) -> float | None:
        return _ratio(self.answered_within, self.answered + self.abandoned + self.expired)

    @property
    def abandonment_rate(self) -> float | None:
        return _ratio(self.abandoned, self.queued)

    @property
    def csat(self) -> float | None:
        return _ratio(sum(1 for v in self.csat_values if v >= 4), len(self.csat_values))


def _flow(
    events: Iterable[EventLike],
    *,
    count_transfers: bool,
    threshold_of: Callable[[str | None], int] | None = None,
) -> _Flow:
    """Count `events`; transfers count as queue entries for one campaign, not for the total."""
    flow = _Flow()
    for ev in events:
        kind = ev.kind
        if kind == EventKind.QUEUED or (kind == EventKind.TRANSFERRED and count_transfers):
            flow.queued += 1
        elif kind == EventKind.FIRST_RESPONSE:
            flow.answered += 1
            if ev.value is not None:
                flow.response_seconds.append(ev.value)
                if threshold_of is not None and ev.value <= threshold_of(ev.campaign):
                    flow.answered_within += 1
        elif kind == EventKind.ABANDONED:
            flow.abandoned += 1
        elif kind == EventKind.EXPIRED:
            flow.expired += 1
        elif kind == EventKind.CLOSED:
            flow.closed += 1
            if ev.value is not None:
                flow.handled_seconds.append(ev.value)
        elif kind == EventKind.CSAT and ev.value is not None:
            flow.csat_values.append(ev.value)
        elif kind == EventKind.HANDOFF_UNAVAILABLE:
            flow.unavailable += 1
    return flow


def _by_campaign(events: Iterable[EventLike]) -> dict[str, list[EventLike]]:
    grouped: dict[str, list[EventLike]] = defaultdict(list)
    for ev in events:
        if ev.campaign is not None:
            grouped[ev.campaign].append(ev)
    return grouped


@dataclass
class _HandoffState:
    campaign: str | None
    waiting: bool
    entered_queue_at: datetime
    agent: str | None = None  # set while an agent holds it


def _replay_handoffs(ordered: Iterable[EventLike]) -> dict[int, _HandoffState]:
    """Where each handoff stands after `ordered` (events sorted by time)."""
    states: dict[int, _HandoffState] = {}
    for ev in ordered:
        if ev.handoff_id is None:
            continue
        state = states.get(ev.handoff_id)
        # An offer whose queue entry is missing (before the events kept): waiting since the offer.
        if ev.kind in _QUEUE_ENTRY or (ev.kind in _OFFER and state is None):
            states[ev.handoff_id] = _HandoffState(ev.campaign, True, _when(ev))
        elif state is None:
            continue
        elif ev.kind == EventKind.ASSIGNED:
            state.waiting, state.agent = False, ev.agent
        elif ev.kind in _ENDED:
            state.waiting, state.agent = False, None
    return states


def _presence(ordered: Iterable[EventLike]) -> dict[str, tuple[str, frozenset[str]]]:
    """Each agent's latest status and campaigns."""
    latest: dict[str, tuple[str, frozenset[str]]] = {}
    for ev in ordered:
        if ev.kind == EventKind.AGENT_STATUS and ev.agent:
            status = str(ev.detail.get("status", ""))
            campaigns = frozenset(str(c) for c in ev.detail.get("campaigns") or ())
            latest[ev.agent] = (status, campaigns)
    return latest


# --- dashboard -------------------------------------------------------------------------------


def campaign_figures(
    events: Iterable[EventLike],
    now: datetime,
    since: datetime,
    thresholds: Mapping[str, int] | None = None,
    default_threshold: int = DEFAULT_THRESHOLD_SECONDS,
) -> dict[str, CampaignFigures]:
    """Live and period figures per campaign (every campaign seen), plus the "__all__" totals.

    Flow figures count the events in [since, now]; live ones replay every event up to `now`.
    """
    now, since = _aware(now), _aware(since)
    ordered = sorted((e for e in events if _when(e) <= now), key=_when)
    period = [e for e in ordered if _when(e) >= since]
    handoffs = _replay_handoffs(ordered)
    presence = _presence(ordered)
    held = {h.agent for h in handoffs.values() if h.agent is not None}
    threshold_of = _threshold_lookup(thresholds or {}, default_threshold)
    period_by_campaign = _by_campaign(period)

    campaigns = {e.campaign for e in ordered if e.campaign is not None}
    campaigns.update(c for _status, agent_campaigns in presence.values() for c in agent_campaigns)

    def figures(campaign: str | None) -> CampaignFigures:
        waiting_since = [
            h.entered_queue_at
            for h in handoffs.values()
            if h.waiting and (campaign is None or h.campaign == campaign)
        ]
        online = {
            agent
            for agent, (status, agent_campaigns) in presence.items()
            if status == AgentStatus.AVAILABLE and (campaign is None or campaign in agent_campaigns)
        }
        flow = _flow(
            period if campaign is None else period_by_campaign.get(campaign, []),
            count_transfers=campaign is not None,
            threshold_of=threshold_of,
        )
        return CampaignFigures(
            campaign=campaign or ALL,
            waiting=len(waiting_since),
            longest_wait_seconds=(
                (now - min(waiting_since)).total_seconds() if waiting_since else None
            ),
            agents_online=len(online),
            agents_busy=len(online & held),
            queued=flow.queued,
            answered=flow.answered,
            answered_within=flow.answered_within,
            abandoned=flow.abandoned,
            expired=flow.expired,
            service_level=flow.service_level,
            asa_seconds=_mean(flow.response_seconds),
            abandonment_rate=flow.abandonment_rate,
            closed=flow.closed,
            aht_seconds=_mean(flow.handled_seconds),
            csat_responses=len(flow.csat_values),
            csat=flow.csat,
            unavailable=flow.unavailable,
        )

    result = {campaign: figures(campaign) for campaign in sorted(campaigns)}
    result[ALL] = figures(None)
    return result


@dataclass(frozen=True)
class ChannelFigures:
    """The period's handoff flow of one channel (WhatsApp, SMS, web chat, …)."""

    channel: str
    queued: int
    answered: int
    service_level: float | None
    asa_seconds: float | None
    abandoned: int
    expired: int
    abandonment_rate: float | None
    closed: int
    aht_seconds: float | None
    csat: float | None


def channel_figures(
    events: Iterable[EventLike],
    now: datetime,
    since: datetime,
    thresholds: Mapping[str, int] | None = None,
    default_threshold: int = DEFAULT_THRESHOLD_SECONDS,
) -> list[ChannelFigures]:
    """The flow figures of [since, now] per channel the period's events name, by channel."""
    now, since = _aware(now), _aware(since)
    threshold_of = _threshold_lookup(thresholds or {}, default_threshold)
    grouped: dict[str, list[EventLike]] = defaultdict(list)
    for ev in events:
        if ev.channel is not None and since <= _when(ev) <= now:
            grouped[ev.channel].append(ev)
    out = []
    for channel in sorted(grouped):
        flow = _flow(grouped[channel], count_transfers=False, threshold_of=threshold_of)
        out.append(
            ChannelFigures(
                channel=channel,
                queued=flow.queued,
                answered=flow.answered,
                service_level=flow.service_level,
                asa_seconds=_mean(flow.response_seconds),
                abandoned=flow.abandoned,
                expired=flow.expired,
                abandonment_rate=flow.abandonment_rate,
                closed=flow.closed,
                aht_seconds=_mean(flow.handled_seconds),
                csat=flow.csat,
            )
        )
    return out


def containment(events: Iterable[EventLike], since: datetime, until: datetime) -> Containment:
    """Conversations started in [since, until) and those of them never queued before `until`."""
    since, until = _aware(since), _aware(until)
    started: list[EventLike] = []
    queued_at: dict[int, list[datetime]] = defaultdict(list)
    for ev in events:
        when = _when(ev)
        if ev.kind == EventKind.CONVERSATION_STARTED and since <= when < until:
            started.append(ev)
        elif ev.kind == EventKind.QUEUED and ev.conversation_id is not None and when < until:
            queued_at[ev.conversation_id].append(when)

    def handed_off(start: EventLike) -> bool:
        if start.conversation_id is None:
            return False
        return any(q >= _when(start) for q in queued_at.get(start.conversation_id, ()))

    resolved = sum(1 for ev in started if not handed_off(ev))
    return Containment(len(started), resolved, _ratio(resolved, len(started)))


def hourly(
    events: Iterable[EventLike],
    day_start: date,
    tz: tzinfo = MEXICO_CITY,
    campaign: str | None = None,
) -> list[HourBucket]:
    """24 buckets, one per local hour of the local day `day_start` (a date, or a moment in it)."""
    day = day_start.astimezone(tz).date() if isinstance(day_start, datetime) else day_start
    buckets: list[list[EventLike]] = [[] for _ in range(24)]
    for ev in events:
        if campaign is not None and ev.campaign != campaign:
            continue
        local = _when(ev).astimezone(tz)
        if local.date() == day:
            buckets[local.hour].append(ev)
    result = []
    for hour, in_hour in enumerate(buckets):
        flow = _flow(in_hour, count_transfers=campaign is not None)
        start = datetime.combine(day, time(hour), tzinfo=tz)
        result.append(
            HourBucket(hour, start, flow.queued, flow.answered, flow.abandoned, flow.closed)
        )
    return result


# --- monthly report --------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_bounds(month: str, tz: tzinfo = MEXICO_CITY) -> tuple[datetime, datetime]:
    """[start, end) of a "YYYY-MM" month in local time `tz`."""
    match = _MONTH.match(month)
    if match is None:
        raise ValueError(f"Month must look like YYYY-MM, got {month!r}")
    year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, number, 1, tzinfo=tz)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)
    return start, end


def _monthly_row(
    campaign: str, conversations: int, bot_resolved: int | None, flow: _Flow
) -> MonthlyRow:
    return MonthlyRow(
        campaign=campaign,
        conversations=conversations,
        bot_resolved=bot_resolved,
        handoffs=flow.queued,
        answered=flow.answered,
        abandoned=flow.abandoned,
        handled_seconds=sum(flow.handled_seconds),
        aht_seconds=_mean(flow.handled_seconds),
        service_level=flow.service_level,
        csat=flow.csat,
    )


def monthly_report(
    events: Iterable[EventLike],
    month: str,
    tz: tzinfo = MEXICO_CITY,
    thresholds: Mapping[str, int] | None = None,
    default_threshold: int = DEFAULT_THRESHOLD_SECONDS,
) -> list[MonthlyRow]:
    """One row per campaign with events in the local month, then the "__all__" total row.

    A campaign's conversations are the entries into its queue (queued there or transferred in);
    its handoffs are the handoffs first queued there. The total's conversations are the
    conversations started, its bot_resolved those never handed off (containment).
    """
    start, end = month_bounds(month, tz)
    events = list(events)
    in_month = [e for e in events if start <= _when(e) < end]
    threshold_of = _threshold_lookup(thresholds or {}, default_threshold)
    rows = []
    for campaign, of_campaign in sorted(_by_campaign(in_month).items()):
        entries = _flow(of_campaign, count_transfers=True)
        flow = _flow(of_campaign, count_transfers=False, threshold_of=threshold_of)
        rows.append(_monthly_row(campaign, entries.queued, None, flow))
    contained = containment(events, start, end)
    total = _flow(in_month, count_transfers=False, threshold_of=threshold_of)
    rows.append(_monthly_row(ALL, contained.conversations, contained.bot_resolved, total))
    return rows


def monthly_by_channel(
    events: Iterable[EventLike],
    month: str,
    tz: tzinfo = MEXICO_CITY,
    thresholds: Mapping[str, int] | None = None,
    default_threshold: int = DEFAULT_THRESHOLD_SECONDS,
) -> list[MonthlyRow]:
    """One row per channel with events in the local month (`campaign` holds the channel code).

    A channel's conversations are those started on it in the month, its bot_resolved those of
    them never handed off; its handoffs are the handoffs first queued from it (a conversation
    keeps its channel, so a transfer is no new handoff). Events without a channel are left out.
    """
    start, end = month_bounds(month, tz)
    threshold_of = _threshold_lookup(thresholds or {}, default_threshold)
    grouped: dict[str, list[EventLike]] = defaultdict(list)
    for ev in events:
        if ev.channel is not None:
            grouped[ev.channel].append(ev)
    rows = []
    for channel, of_channel in sorted(grouped.items()):
        in_month = [e for e in of_channel if start <= _when(e) < end]
        contained = containment(of_channel, start, end)
        if not in_month:
            continue
        flow = _flow(in_month, count_transfers=False, threshold_of=threshold_of)
        rows.append(_monthly_row(channel, contained.conversations, contained.bot_resolved, flow))
    return rows


CSV_HEADERS = (
    "campaña",
    "conversaciones",
    "resueltas_por_bot",
    "derivaciones",
    "atendidas",
    "abandonadas",
    "tiempo_atencion_s",
    "tiempo_medio_atencion_s",
    "nivel_servicio",
    "csat",
)


def _cell(value: float | None, digits: int) -> str:
    if value is None:
        return ""
    return str(round(value)) if digits == 0 else f"{value:.{digits}f}"


def monthly_csv(rows: Iterable[MonthlyRow], first_column: str = "campaña") -> str:
    """The monthly report as CSV with Spanish headers; rates as fractions (0.8 = 80 %).
    `first_column` names what the rows are of ("campaña", or "canal" for `monthly_by_channel`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow((first_column, *CSV_HEADERS[1:]))
    for row in rows:
        writer.writerow(
            [
                "total" if row.campaign == ALL else row.campaign,
                row.conversations,
                _cell(row.bot_resolved, 0),
                row.handoffs,
                row.answered,
                row.abandoned,
                _cell(row.handled_seconds, 0),
                _cell(row.aht_seconds, 1),
                _cell(row.service_level, 4),
                _cell(row.csat, 4),
            ]
        )
    return out.getvalue()
