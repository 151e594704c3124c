import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handoff.metrics import (
    ALL,
    CSV_HEADERS,
    Event,
    campaign_figures,
    channel_figures,
    containment,
    hourly,
    month_bounds,
    monthly_by_channel,
    monthly_csv,
    monthly_report,
)

MX = ZoneInfo("America/Mexico_City")  # UTC-6 all year since 2022
SINCE = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 2026-11-24 00:00 in Mexico City
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 09:00 local
NOW = T0 + timedelta(minutes=30)


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def ev(kind: str, when: datetime, campaign: str | None = "cita_medica", **fields) -> Event:
    return Event(kind=kind, created_at=when, campaign=campaign, **fields)


def status(agent: str, state: str, when: datetime, *campaigns: str) -> Event:
    detail = {"status": state, "campaigns": list(campaigns)}
    return Event("agent_status", when, agent=agent, detail=detail)


def test_one_campaign_day_service_level_counts_abandons_as_misses() -> None:
    events = [
        # h0: from yesterday, closed and rated today. Only its close and survey are today's.
        ev("queued", SINCE - timedelta(minutes=30), handoff_id=0, conversation_id=10),
        ev("assigned", SINCE - timedelta(minutes=10), handoff_id=0, agent="ana", value=1200),
        ev("first_response", SINCE - timedelta(minutes=9), handoff_id=0, value=1260),
        ev("closed", SINCE + timedelta(minutes=5), handoff_id=0, value=900),
        ev("csat", SINCE + timedelta(minutes=6), handoff_id=0, value=2),
        ev("handoff_unavailable", SINCE - timedelta(minutes=1)),  # yesterday: not counted
        # h1: answered in 10 s, closed after 300 s, rated 5
        ev("queued", at(0), handoff_id=1, conversation_id=11),
        ev("offered", at(0, 5), handoff_id=1, agent="ana"),
        ev("assigned", at(0, 8), handoff_id=1, agent="ana", value=8),
        ev("first_response", at(0, 10), handoff_id=1, agent="ana", value=10),
        ev("closed", at(0, 308), handoff_id=1, agent="ana", value=300),
        ev("csat", at(6), handoff_id=1, value=5),
        # h2: answered in 90 s, over the 60 s threshold; closed after 600 s, rated 4
        ev("queued", at(1), handoff_id=2, conversation_id=12),
        ev("assigned", at(1, 80), handoff_id=2, agent="ana", value=80),
        ev("first_response", at(1, 90), handoff_id=2, agent="ana", value=90),
        ev("closed", at(1, 680), handoff_id=2, agent="ana", value=600),
        ev("csat", at(13), handoff_id=2, value=4),
        # h3: the user left after 120 s
        ev("queued", at(2), handoff_id=3, conversation_id=13),
        ev("abandoned", at(4), handoff_id=3, value=120),
        # h4: offered, not accepted, still waiting; its abandon comes after `now`
        ev("queued", at(3), handoff_id=4, conversation_id=14),
        ev("offered", at(3, 5), handoff_id=4, agent="beto"),
        ev("offer_expired", at(3, 35), handoff_id=4, agent="beto"),
        ev("abandoned", NOW + timedelta(seconds=1), handoff_id=4, value=1621),
        ev("handoff_unavailable", at(20), detail={"why": "no_agents"}),
    ]
    figures = campaign_figures(events, NOW, SINCE, {"cita_medica": 60}, default_threshold=20)

    assert set(figures) == {"cita_medica", ALL}
    cita = figures["cita_medica"]
    assert cita.waiting == 1  # h4
    assert cita.longest_wait_seconds == 27 * 60  # now (T0+30 min) − queued (T0+3 min)
    assert cita.queued == 4  # h1–h4; h0 was queued yesterday
    assert cita.answered == 2  # h1, h2 (h0 answered yesterday)
    assert cita.answered_within == 1  # 10 ≤ 60; 90 > 60
    assert (cita.abandoned, cita.expired) == (1, 0)  # h4's abandon is after now
    assert cita.service_level == pytest.approx(1 / 3)  # 1 within ÷ (2 answered + 1 abandoned)
    assert cita.asa_seconds == pytest.approx(50)  # (10 + 90) / 2
    assert cita.abandonment_rate == pytest.approx(0.25)  # 1 abandoned ÷ 4 queued
    assert cita.closed == 3  # h0, h1, h2 closed today
    assert cita.aht_seconds == pytest.approx(600)  # (900 + 300 + 600) / 3
    assert cita.csat_responses == 3
    assert cita.csat == pytest.approx(2 / 3)  # 5 and 4 of 5, 4, 2
    assert cita.unavailable == 1
    # one campaign: the totals are the same figures
    assert replace(figures[ALL], campaign="cita_medica") == cita


def test_transfer_restarts_the_place_in_the_new_queue_and_counts_there() -> None:
    events = [
        ev("queued", at(0), handoff_id=5, conversation_id=15),
        ev("transferred", at(5), "omt_covid", handoff_id=5, detail={"from": "cita_medica"}),
        ev("queued", at(1), "omt_covid", handoff_id=9, conversation_id=19),
        ev("assigned", at(2), "omt_covid", handoff_id=9, agent="carla", value=60),
        ev("first_response", at(3.5), "omt_covid", handoff_id=9, agent="carla", value=180),
    ]
    now = at(10)
    figures = campaign_figures(events, now, SINCE, {"cita_medica": 60, "omt_covid": 180}, 20)

    cita, omt, total = figures["cita_medica"], figures["omt_covid"], figures[ALL]
    assert (cita.waiting, cita.longest_wait_seconds, cita.queued) == (0, None, 1)
    assert omt.waiting == 1  # h5 (h9 is assigned)
    assert omt.longest_wait_seconds == 5 * 60  # now (T0+10) − transfer (T0+5), not − T0
    assert omt.queued == 2  # h9 queued + h5 transferred in
    assert omt.answered_within == 1  # 180 ≤ 180: the threshold itself is in time
    assert total.queued == 2  # each handoff once: h5 and h9, the transfer is no new arrival
    assert total.answered_within == 1  # the total uses each campaign's own threshold
    assert total.waiting == 1
    assert total.abandonment_rate == 0.0  # 0 ÷ 2: a rate, not None


def test_agents_online_and_busy_from_their_latest_status_up_to_now() -> None:
    events = [
        status("ana", "available", SINCE - timedelta(hours=2), "cita_medica"),  # before since
        status("beto", "available", at(0), "cita_medica", "omt_covid"),
        status("beto", "away", at(9), "cita_medica", "omt_covid"),
        status("carla", "available", at(0), "omt_covid"),
        status("dani", "offline", at(0), "cita_medica"),
        status("ana", "away", NOW + timedelta(minutes=1), "cita_medica"),  # after now
        # ana holds h1 (open); beto holds h3 but is away; carla's h2 is closed
        ev("queued", at(1), handoff_id=1),
        ev("assigned", at(2), handoff_id=1, agent="ana"),
        ev("queued", at(1), "omt_covid", handoff_id=2),
        ev("assigned", at(2), "omt_covid", handoff_id=2, agent="carla"),
        ev("closed", at(8), "omt_covid", handoff_id=2, agent="carla", value=360),
        ev("queued", at(1), handoff_id=3),
        ev("assigned", at(2), handoff_id=3, agent="beto"),
    ]
    figures = campaign_figures(events, NOW, SINCE, {}, 60)

    # cita_medica: ana (beto away, dani offline); omt_covid: carla
    assert (figures["cita_medica"].agents_online, figures["cita_medica"].agents_busy) == (1, 1)
    assert (figures["omt_covid"].agents_online, figures["omt_covid"].agents_busy) == (1, 0)
    assert (figures[ALL].agents_online, figures[ALL].agents_busy) == (2, 1)  # {ana, carla}, {ana}


def test_campaign_of_an_agent_without_events_still_gets_a_row_with_empty_rates() -> None:
    events = [
        status("eva", "available", at(0), "salud_mental"),
        ev("handoff_unavailable", at(1), "contribuyente", detail={"why": "closed"}),
    ]
    figures = campaign_figures(events, NOW, SINCE, {}, 60)

    assert set(figures) == {"contribuyente", "salud_mental", ALL}
    quiet = figures["salud_mental"]
    assert quiet.agents_online == 1 and quiet.queued == 0
    assert quiet.service_level is None and quiet.asa_seconds is None
    assert quiet.abandonment_rate is None and quiet.aht_seconds is None
    assert quiet.csat is None and quiet.longest_wait_seconds is None
    assert figures["contribuyente"].unavailable == 1


def test_offers_of_a_handoff_queued_before_the_events_kept_leave_it_waiting() -> None:
    # Only the offers are left of h7 and h8 (their `queued` was earlier): still waiting, since then.
    events = [
        ev("offer_declined", at(1), handoff_id=7, agent="ana", detail={"why": "declined"}),
        ev("offer_expired", at(2), handoff_id=8, agent="beto", detail={"why": "timeout"}),
    ]
    figures = campaign_figures(events, NOW, SINCE, {}, 60)

    cita = figures["cita_medica"]
    assert cita.waiting == 2 and cita.longest_wait_seconds == 29 * 60
    assert cita.queued == 0 and cita.abandoned == 0 and cita.expired == 0  # offers count nowhere


def test_naive_timestamps_read_as_utc() -> None:
    naive = [Event("queued", at(0).replace(tzinfo=None), "cita_medica", handoff_id=1)]
    figures = campaign_figures(naive, NOW, SINCE, {}, 60)
    assert figures["cita_medica"].longest_wait_seconds == 30 * 60


def test_containment_five_conversations_two_handed_off() -> None:
    until = SINCE + timedelta(days=1)
    events = [
        ev("conversation_started", SINCE, None, conversation_id=1),  # at `since`: counted
        ev("conversation_started", at(1), None, conversation_id=2),
        ev("conversation_started", at(2), None, conversation_id=3),
        ev("conversation_started", at(3), None, conversation_id=4),
        ev("conversation_started", at(4), None, conversation_id=5),
        ev("queued", at(2), conversation_id=2, handoff_id=20),
        ev("queued", at(10), conversation_id=4, handoff_id=40),
        ev("queued", at(1), conversation_id=3, handoff_id=30),  # before 3 started: not its handoff
        ev("queued", until + timedelta(minutes=1), conversation_id=5, handoff_id=50),  # too late
        # started yesterday, handed off today: not in today's conversations
        ev("conversation_started", SINCE - timedelta(minutes=5), None, conversation_id=6),
        ev("queued", at(5), conversation_id=6, handoff_id=60),
        ev("conversation_started", until, None, conversation_id=7),  # at `until`: excluded
    ]
    result = containment(events, SINCE, until)
    assert result.conversations == 5  # 1–5
    assert result.bot_resolved == 3  # 1, 3, 5
    assert result.rate == pytest.approx(0.6)  # 3 ÷ 5
    assert containment([], SINCE, until).rate is None


def test_hourly_buckets_by_local_hour_of_the_local_day() -> None:
    local = datetime(2026, 11, 24, tzinfo=MX)
    events = [
        ev("queued", local.replace(hour=8, minute=15)),
        ev("queued", local.replace(hour=8, minute=50)),
        ev("queued", local.replace(hour=8, minute=30), "omt_covid"),
        ev("first_response", datetime(2026, 11, 24, 15, 5, tzinfo=UTC), value=30),  # 09:05 local
        ev("transferred", local.replace(hour=10), detail={"from": "omt_covid"}),
        ev("abandoned", datetime(2026, 11, 25, 5, 59, tzinfo=UTC)),  # 23:59 local on the 24th
        ev("closed", local.replace(hour=0, minute=10) + timedelta(days=1)),  # the 25th
        ev("queued", datetime(2026, 11, 24, 5, 50, tzinfo=UTC)),  # 23:50 local on the 23rd
    ]
    buckets = hourly(events, date(2026, 11, 24), MX, campaign="cita_medica")

    assert [b.hour for b in buckets] == list(range(24))
    assert buckets[8].start == datetime(2026, 11, 24, 14, tzinfo=UTC)  # 08:00 local
    assert buckets[8].queued == 2  # 08:15 and 08:50; omt_covid filtered out
    assert buckets[9].answered == 1
    assert buckets[10].queued == 1  # transferred into cita_medica
    assert buckets[23].abandoned == 1
    assert sum(b.queued for b in buckets) == 3  # not the 23rd's queued
    assert sum(b.closed for b in buckets) == 0  # the close is on the 25th

    everything = hourly(events, datetime(2026, 11, 24, 12, tzinfo=MX), MX)
    assert everything[8].queued == 3  # both campaigns
    assert everything[10].queued == 0  # a transfer is no new arrival for the total


def october_events() -> list[Event]:
    def local(day: int, hour: int = 12) -> datetime:
        return datetime(2026, 10, day, hour, tzinfo=MX)

    def started(when: datetime, conversation_id: int) -> Event:
        return ev("conversation_started", when, None, conversation_id=conversation_id)

    return [
        started(datetime(2026, 10, 1, 6, 0, tzinfo=UTC), 1),  # October 1, 00:00 local
        started(datetime(2026, 11, 1, 5, 30, tzinfo=UTC), 2),  # October 31, 23:30 local
        started(datetime(2026, 10, 1, 5, 59, tzinfo=UTC), 12),  # September 30, 23:59 local
        started(datetime(2026, 11, 1, 6, 0, tzinfo=UTC), 13),  # November 1, 00:00 local
        # h1 (cita_medica): answered in 30 s, handled 400 s, rated 5
        started(local(15, 9), 10),
        ev("queued", local(15, 10), handoff_id=1, conversation_id=10),
        ev("first_response", local(15, 10), handoff_id=1, value=30),
        ev("closed", local(15, 11), handoff_id=1, value=400),
        ev("csat", local(15, 11), handoff_id=1, value=5),
        # h2: queued in omt_covid, transferred to cita_medica, answered in 200 s, rated 3
        started(local(16, 9), 11),
        ev("queued", local(16, 10), "omt_covid", handoff_id=2, conversation_id=11),
        ev("transferred", local(16, 10), handoff_id=2, detail={"from": "omt_covid"}),
        ev("first_response", local(16, 11), handoff_id=2, value=200),
        ev("closed", local(16, 11), handoff_id=2, value=200),
        ev("csat", local(16, 11), handoff_id=2, value=3),
        # h3 (conversation 12, started in September) abandoned on October 31, 23:30 local
        ev("queued", local(31, 23), handoff_id=3, conversation_id=12),
        ev("abandoned", datetime(2026, 11, 1, 5, 30, tzinfo=UTC), handoff_id=3, value=1800),
        # November local: no salud_mental row in October
        ev("queued", datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "salud_mental", handoff_id=4),
    ]


def test_monthly_report_uses_local_month_boundaries() -> None:
    rows = monthly_report(october_events(), "2026-10", MX, {"cita_medica": 60}, 60)

    assert [r.campaign for r in rows] == ["cita_medica", "omt_covid", ALL]
    cita, omt, total = rows
    assert cita.conversations == 3  # h1, h3 queued + h2 transferred in
    assert cita.bot_resolved is None
    assert cita.handoffs == 2  # h1, h3 first queued here
    assert (cita.answered, cita.abandoned) == (2, 1)  # the abandon at 05:30 UTC Nov 1 is October
    assert cita.handled_seconds == 600  # 400 + 200
    assert cita.aht_seconds == pytest.approx(300)
    assert cita.service_level == pytest.approx(1 / 3)  # 30 ≤ 60 ÷ (2 answered + 1 abandoned)
    assert cita.csat == pytest.approx(0.5)  # 5 of 5, 3
    assert (omt.conversations, omt.handoffs, omt.answered) == (1, 1, 0)
    assert omt.aht_seconds is None and omt.service_level is None and omt.csat is None
    assert total.conversations == 4  # conversations 1, 2, 10, 11 (not 12, 13)
    assert total.bot_resolved == 2  # 1 and 2; 10 and 11 were handed off
    assert total.handoffs == 3  # h1, h2, h3: the transfer does not count again
    assert total.service_level == pytest.approx(1 / 3)
    assert total.handled_seconds == 600


def test_month_bounds_in_mexico_city_and_bad_months() -> None:
    start, end = month_bounds("2026-12", MX)
    assert start == datetime(2026, 12, 1, 6, tzinfo=UTC)
    assert end == datetime(2027, 1, 1, 6, tzinfo=UTC)
    for bad in ("2026-13", "2026-1", "octubre"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            month_bounds(bad)


def test_monthly_csv_has_spanish_headers_and_a_total_row() -> None:
    rows = monthly_report(october_events(), "2026-10", MX, {"cita_medica": 60}, 60)
    table = list(csv.reader(io.StringIO(monthly_csv(rows))))

    assert table[0] == list(CSV_HEADERS)
    assert table[0][:3] == ["campaña", "conversaciones", "resueltas_por_bot"]
    assert table[1] == ["cita_medica", "3", "", "2", "2", "1", "600", "300.0", "0.3333", "0.5000"]
    assert table[2] == ["omt_covid", "1", "", "1", "0", "0", "0", "", "", ""]
    assert table[3] == ["total", "4", "2", "3", "2", "1", "600", "300.0", "0.3333", "0.5000"]


def test_figures_per_channel_count_each_channels_handoffs_of_the_period() -> None:
    events = [
        # WhatsApp: one answered in 20 s (within 60) and closed after 200 s; one abandoned.
        ev("queued", at(0), handoff_id=1, channel="whatsapp"),
        ev("first_response", at(0, 20), handoff_id=1, channel="whatsapp", value=20),
        ev("closed", at(4), handoff_id=1, channel="whatsapp", value=200),
        ev("csat", at(5), handoff_id=1, channel="whatsapp", value=5),
        ev("queued", at(1), handoff_id=2, channel="whatsapp"),
        ev("abandoned", at(2), handoff_id=2, channel="whatsapp"),
        # Web chat: answered in 90 s, over the threshold.
        ev("queued", at(2), handoff_id=3, channel="webchat"),
        ev("first_response", at(2, 90), handoff_id=3, channel="webchat", value=90),
        # Yesterday's, and one with no channel: not counted.
        ev("queued", SINCE - timedelta(minutes=5), handoff_id=4, channel="sms"),
        ev("handoff_unavailable", at(3)),
    ]
    figures = {f.channel: f for f in channel_figures(events, NOW, SINCE, {}, 60)}
    assert list(figures) == ["webchat", "whatsapp"]
    whatsapp, webchat = figures["whatsapp"], figures["webchat"]
    assert (whatsapp.queued, whatsapp.answered, whatsapp.abandoned) == (2, 1, 1)
    assert whatsapp.service_level == pytest.approx(1 / 2)  # the abandon is a miss
    assert whatsapp.abandonment_rate == pytest.approx(1 / 2)
    assert (whatsapp.asa_seconds, whatsapp.aht_seconds, whatsapp.csat) == (20, 200, 1.0)
    assert (webchat.queued, webchat.answered, webchat.service_level) == (1, 1, 0.0)
    assert webchat.closed == 0 and webchat.aht_seconds is None


def test_monthly_report_by_channel_counts_conversations_started_and_handoffs_on_each() -> None:
    def local(day: int, hour: int = 12) -> datetime:
        return datetime(2026, 10, day, hour, tzinfo=MX)

    def on(channel: str, kind: str, when: datetime, campaign: str | None = None, **f) -> Event:
        return ev(kind, when, campaign, channel=channel, **f)

    events = [
        # WhatsApp: conversation 1 handed off (answered in 30 s, handled 300 s), 2 by the bot.
        on("whatsapp", "conversation_started", local(3, 9), conversation_id=1),
        on("whatsapp", "queued", local(3, 10), "cita_medica", handoff_id=1, conversation_id=1),
        on("whatsapp", "transferred", local(3, 10), "omt_covid", handoff_id=1),
        on("whatsapp", "first_response", local(3, 10), "omt_covid", handoff_id=1, value=30),
        on("whatsapp", "closed", local(3, 11), "omt_covid", handoff_id=1, value=300),
        on("whatsapp", "conversation_started", local(4), conversation_id=2),
        # SMS: one conversation, handed off and abandoned.
        on("sms", "conversation_started", local(5, 8), conversation_id=3),
        on("sms", "queued", local(5, 9), "cita_medica", handoff_id=2, conversation_id=3),
        on("sms", "abandoned", local(5, 10), "cita_medica", handoff_id=2, value=600),
        # Telegram: only in November (local), so no row; and an event with no channel.
        on("telegram", "conversation_started", datetime(2026, 11, 1, 6, 0, tzinfo=UTC)),
        ev("handoff_unavailable", local(6)),
    ]
    rows = monthly_by_channel(events, "2026-10", MX, {}, 60)

    assert [r.campaign for r in rows] == ["sms", "whatsapp"]
    sms, whatsapp = rows
    assert (whatsapp.conversations, whatsapp.bot_resolved) == (2, 1)
    assert (whatsapp.handoffs, whatsapp.answered, whatsapp.abandoned) == (1, 1, 0)  # no transfer
    assert (whatsapp.handled_seconds, whatsapp.service_level) == (300, 1.0)
    assert (sms.conversations, sms.bot_resolved, sms.handoffs, sms.abandoned) == (1, 0, 1, 1)
    assert sms.service_level == 0.0

    table = list(csv.reader(io.StringIO(monthly_csv(rows, first_column="canal"))))
    assert table[0] == ["canal", *CSV_HEADERS[1:]]
    assert table[2] == ["whatsapp", "2", "1", "1", "1", "0", "300", "300.0", "1.0000", ""]
