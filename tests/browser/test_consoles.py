"""The agent console and the supervisor dashboard in a real browser, against the running system.

The user side is a web chat socket (the widget's protocol); the agent works in /consola; the
supervisor's figures in /supervision are compared with figures computed from the event table.
"""

from __future__ import annotations

import re
import sqlite3
import time as pytime
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.webchat.client import ChatClient, bot_texts
from handoff import metrics
from tests.browser.helpers import UI_TIMEOUT_MS, expect, sign_in
from tests.utils.staff import Staff, ask_for_a_person, create_user, frames_until
from ventanilla.launcher import RunningSystem

pytestmark = pytest.mark.browser

CAMPAIGN = "trabajadoras_hogar"  # used by no other test of the shared system


def events_of(system: RunningSystem) -> list[metrics.Event]:
    database = Path(system.env["VENTANILLA_VAR_DIR"]) / "ventanilla.db"
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT kind, created_at, campaign, conversation_id, handoff_id, agent, channel, "
            "value FROM handoff_events ORDER BY id"
        ).fetchall()
        details = connection.execute("SELECT detail FROM handoff_events ORDER BY id").fetchall()
    import json

    return [
        metrics.Event(
            kind=kind,
            created_at=datetime.fromisoformat(created).replace(tzinfo=UTC),
            campaign=campaign,
            conversation_id=conversation_id,
            handoff_id=handoff_id,
            agent=agent,
            channel=channel,
            value=value,
            detail=json.loads(detail),
        )
        for (kind, created, campaign, conversation_id, handoff_id, agent, channel, value), (
            detail,
        ) in zip(rows, details, strict=True)
    ]


def test_agent_claims_replies_and_closes_in_the_console(
    system: RunningSystem, new_page: Any, screenshot_dir: Path
) -> None:
    create_user(system, "vera.consola", "agent", CAMPAIGN)
    create_user(system, "sergio.supervisa", "supervisor", CAMPAIGN)
    page = new_page()
    sign_in(page, f"{system.base_url}/consola", "vera.consola")  # signing in: available

    chat = ChatClient(system.ws_url)
    queued = bot_texts(ask_for_a_person(chat, CAMPAIGN))
    assert "lugar 1" in queued[-1]

    # The offer appears without reloading; accept it.
    claim = page.locator("[data-testid^='claim-']").first
    expect(claim).to_be_visible(timeout=UI_TIMEOUT_MS)
    claim.click()
    frames_until(chat, lambda f: f["type"] == "message" and "Ya te atiende" in f["text"])
    transcript = page.get_by_test_id("transcript")
    expect(transcript).to_contain_text("hablar con una persona", timeout=UI_TIMEOUT_MS)

    page.get_by_test_id("reply-input").fill("Hola, te atiende Vera. ¿En qué te ayudo?")
    page.get_by_test_id("reply-send").click()
    pushed = frames_until(chat, lambda f: f.get("from") == "agent")
    assert pushed[-1]["text"] == "Hola, te atiende Vera. ¿En qué te ayudo?"

    chat.turn("Quiero saber de los centros vacacionales")
    expect(transcript).to_contain_text("centros vacacionales", timeout=UI_TIMEOUT_MS)
    page.screenshot(path=str(screenshot_dir / "consola-agente.png"), full_page=True)

    page.get_by_test_id("close-disposition").select_option("informacion_proporcionada")
    page.get_by_test_id("close-submit").click()
    frames = frames_until(chat, lambda f: f["type"] == "message" and bool(f["buttons"]))
    assert any("del 1 (muy mala) al 5" in f.get("text", "") for f in frames)
    five = next(
        b for f in frames if f["type"] == "message" for b in f["buttons"] if b["title"] == "5"
    )
    chat.turn("5", payload=five["payload"])
    chat.close()
    assert page.js_errors == [] and page.dialogs == []

    # The supervisor's dashboard shows what the event table says.
    board = new_page()
    sign_in(board, f"{system.base_url}/supervision", "sergio.supervisa")
    cell = board.get_by_test_id(f"fig-{CAMPAIGN}-csat_responses")
    expect(cell).to_have_attribute("data-value", "1", timeout=UI_TIMEOUT_MS)
    board.screenshot(path=str(screenshot_dir / "supervision.png"), full_page=True)

    tz = ZoneInfo("America/Mexico_City")
    now = datetime.now(UTC)
    since = datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz).astimezone(UTC)
    events = [e for e in events_of(system) if e.campaign in (None, CAMPAIGN)]
    expected = metrics.campaign_figures(events, now, since, {}, 60)[CAMPAIGN]
    for field in ("queued", "answered", "answered_within", "closed", "abandoned", "waiting",
                  "agents_online", "csat_responses", "csat", "service_level"):  # fmt: skip
        shown = board.get_by_test_id(f"fig-{CAMPAIGN}-{field}").get_attribute("data-value")
        value = getattr(expected, field)
        assert shown == ("" if value is None else str(value)) or (
            value is not None and float(shown) == pytest.approx(value)
        ), (field, shown, value)
    assert expected.closed == 1 and expected.csat == 1.0 and expected.agents_online == 1
    # The same handoffs by channel: this one came through the web chat.
    by_channel = {f.channel: f for f in metrics.channel_figures(events, now, since, {}, 60)}
    webchat = by_channel["webchat"]
    expect(board.get_by_test_id("channel-row-webchat")).to_contain_text("Chat web")
    for field in ("queued", "answered", "closed", "abandoned"):
        shown = board.get_by_test_id(f"fig-canal-webchat-{field}").get_attribute("data-value")
        assert shown == str(getattr(webchat, field)), (field, shown)
    assert webchat.closed >= 1
    assert board.js_errors == []

    page.get_by_test_id("logout").click()  # the agent goes offline for the other tests


def test_the_console_shows_each_channels_limits_before_the_agent_writes(
    system: RunningSystem, new_page: Any
) -> None:
    """A WhatsApp conversation whose person last wrote 30 hours ago, and an SMS one, assigned to
    an agent (written to the database: this system has no Twilio). The console says WhatsApp's
    window is closed and, with no approved template configured, that a reply will not arrive;
    on SMS it counts the messages a reply takes (70 characters each with accents)."""
    campaign = "incapacidad_maternidad"  # used by no other test of this system
    create_user(system, "wendy.canales", "agent", campaign)
    database = Path(system.env["VENTANILLA_VAR_DIR"]) / "ventanilla.db"
    now = datetime.now(UTC)
    handoffs = {}
    with sqlite3.connect(database) as connection:
        for channel, sender, hours in (
            ("whatsapp", "whatsapp:+5215522223333", 30),
            ("sms", "+525522224444", 1),
        ):
            conversation = connection.execute(
                "INSERT INTO conversations (key, channel, sender, mode, created_at) "
                "VALUES (?, ?, ?, 'human', ?)",
                (f"{channel}:{sender}", channel, sender, now.isoformat()),
            ).lastrowid
            written = (now - timedelta(hours=hours)).isoformat()
            connection.execute(
                "INSERT INTO messages (conversation_id, author, text, buttons, created_at, "
                "status) VALUES (?, 'user', 'quiero hablar con una persona', '[]', ?, 'done')",
                (conversation, written),
            )
            handoffs[channel] = connection.execute(
                "INSERT INTO handoffs (conversation_id, campaign, priority, status, reason, "
                "summary, context, agent, declined_by, created_at, enqueued_at, assigned_at) "
                "VALUES (?, ?, 'normal', 'assigned', 'request_human', '', '{}', "
                "'wendy.canales', '[]', ?, ?, ?)",
                (conversation, campaign, written, written, now.isoformat()),
            ).lastrowid
    page = new_page()
    sign_in(page, f"{system.base_url}/consola", "wendy.canales")

    page.get_by_test_id(f"open-{handoffs['whatsapp']}").click()
    window = page.get_by_test_id("channel-window")
    expect(window).to_have_attribute("data-state", "closed", timeout=UI_TIMEOUT_MS)
    expect(window).to_contain_text("ventana de 24 horas de WhatsApp se cerró")
    expect(window).to_contain_text("no llegará hasta que la persona vuelva a escribir")
    expect(page.get_by_test_id("channel-limits")).to_contain_text("1,600 caracteres")

    page.get_by_test_id(f"open-{handoffs['sms']}").click()
    expect(page.get_by_test_id("channel-limits")).to_contain_text("SMS: 160 caracteres")
    expect(window).to_be_hidden()
    count = page.get_by_test_id("reply-count")
    page.get_by_test_id("reply-input").fill("a" * 150)  # plain letters: one SMS
    expect(count).to_have_text("150 caracteres · 1 SMS")
    page.get_by_test_id("reply-input").fill("Tu cita está confirmada. " * 4)  # á: 70 per SMS
    expect(count).to_have_text("99 caracteres · 2 SMS")
    assert page.js_errors == [] and page.dialogs == []
    page.get_by_test_id("logout").click()


def test_supervisor_searches_transcripts_and_reads_the_monthly_report(
    system: RunningSystem, new_page: Any
) -> None:
    """Runs after the console test above: its conversation is in the transcripts and report."""
    create_user(system, "tere.supervisa", "supervisor")  # every campaign
    api = Staff(system, "tere.supervisa")
    page = new_page()
    sign_in(page, f"{system.base_url}/supervision/transcripciones", "tere.supervisa")
    total = api.get("/api/handoff/transcripts").json()["total"]
    assert total >= 1
    expect(page.get_by_test_id("results-count")).to_contain_text(str(total), timeout=UI_TIMEOUT_MS)

    page.goto(f"{system.base_url}/supervision/reporte")
    report = api.get("/api/handoff/reports/monthly").json()
    rows = report["rows"]
    for field in ("handoffs", "answered", "conversations"):
        cell = page.get_by_test_id(f"rep-__all__-{field}")
        expect(cell).to_have_attribute("data-value", str(rows[-1][field]), timeout=UI_TIMEOUT_MS)
    # The same month per channel: the console test's conversation came by web chat.
    channels = {row["channel"]: row for row in report["channels"]}
    assert channels["webchat"]["handoffs"] >= 1
    for field in ("handoffs", "conversations"):
        cell = page.get_by_test_id(f"rep-canal-webchat-{field}")
        expected = str(channels["webchat"][field])
        expect(cell).to_have_attribute("data-value", expected, timeout=UI_TIMEOUT_MS)
    expect(page.get_by_test_id("rep-row-canal-webchat")).to_contain_text("Chat web")
    csv_link = page.get_by_test_id("report-channel-csv")
    expect(csv_link).to_have_attribute("href", re.compile(r"format=csv&by=channel"))
    by_channel = api.get("/api/handoff/reports/monthly", format="csv", by="channel")
    assert by_channel.text.splitlines()[0].startswith("canal,conversaciones,")
    assert page.js_errors == [] and page.dialogs == []


def test_the_dashboard_lists_a_message_that_could_not_be_delivered(
    system: RunningSystem, new_page: Any
) -> None:
    """A message for a conversation whose channel this gateway does not have ("fax") is failed
    by the outbox's loop at once; supervisors see it on /supervision, with the NSS masked."""
    database = Path(system.env["VENTANILLA_VAR_DIR"]) / "ventanilla.db"
    now = datetime.now(UTC).isoformat()
    with sqlite3.connect(database) as connection:
        conversation = connection.execute(
            "INSERT INTO conversations (key, channel, sender, mode, created_at) "
            "VALUES (?, 'fax', '+52 55 8765 4321', 'bot', ?)",
            (f"fax-{now}", now),
        ).lastrowid
        connection.execute(
            "INSERT INTO messages (conversation_id, author, text, buttons, created_at, status) "
            "VALUES (?, 'agent', 'Su NSS 12345678901 quedó registrado.', '[]', ?, 'pending')",
            (conversation, now),
        )
    create_user(system, "fidel.supervisa", "supervisor")
    for _ in range(100):  # the outbox's loop comes by every second
        with sqlite3.connect(database) as connection:
            [status] = connection.execute(
                "SELECT status FROM messages WHERE conversation_id = ?", (conversation,)
            ).fetchone()
        if status == "failed":
            break
        pytime.sleep(0.1)
    assert status == "failed"
    page = new_page()
    sign_in(page, f"{system.base_url}/supervision", "fidel.supervisa")
    table = page.get_by_test_id("failed-table")
    expect(table).to_contain_text("canal desconocido: fax", timeout=UI_TIMEOUT_MS)
    expect(table).to_contain_text("quedó registrado.")
    assert "12345678901" not in table.inner_text() and "8765 4321" not in table.inner_text()
    assert page.js_errors == []
