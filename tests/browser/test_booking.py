"""Booking an appointment in the web chat widget, in a real browser, against the running system
(Rasa, the action server, the gateway and the appointments API on the demo data)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from appointments.booking import today_local
from tests.browser.helpers import expect
from tests.browser.test_webchat import BOT_TIMEOUT_MS, PHONE, Widget

pytestmark = pytest.mark.browser


def test_a_person_books_with_the_buttons_and_gets_a_folio(
    system: Any, new_page: Any, screenshot_dir: Path
) -> None:
    database = Path(system.env["VENTANILLA_VAR_DIR"]) / "ventanilla.db"
    with sqlite3.connect(database) as connection:
        nss, curp = connection.execute(
            "SELECT nss, curp FROM affiliates WHERE coverage_until >= ? AND relationship ="
            " 'titular' ORDER BY id LIMIT 1 OFFSET 11",
            (today_local().isoformat(),),
        ).fetchone()
    page = new_page(PHONE)
    widget = Widget(page)
    page.goto(system.base_url.rstrip("/") + "/")
    widget.wait_online()

    def reply_with(button: str) -> None:
        choice = widget.quick_replies.filter(has_text=button).first
        expect(choice).to_be_visible(timeout=BOT_TIMEOUT_MS)
        choice.click()

    def bot_says(text: str | re.Pattern[str]) -> None:
        expect(widget.bot.filter(has_text=text).last).to_be_visible(timeout=BOT_TIMEOUT_MS)

    widget.type_and_press_enter("quiero una cita")
    reply_with("Para mí")
    bot_says("Número de Seguridad Social")
    widget.type_and_press_enter(nss)
    bot_says("Ahora la CURP")
    widget.type_and_press_enter(curp)
    reply_with("Medicina familiar")
    reply_with("Lo antes posible")
    bot_says("horarios más cercanos")
    first = widget.quick_replies.first
    chosen = first.inner_text().strip()
    first.click()
    reply_with("Sí, confírmala")
    bot_says(re.compile(r"Folio CM-[A-Z0-9]{8}"))
    summary = widget.texts(widget.bot)[-1]
    assert chosen in summary and "15 minutos antes" in summary
    page.screenshot(path=str(screenshot_dir / "cita-agendada.png"), full_page=True)
    assert page.js_errors == []
