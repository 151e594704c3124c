"""The web chat widget in a real browser, against the running system (gateway + Rasa + actions).

The ``system`` fixture (tests/conftest.py) starts everything and gives ``system.base_url``;
``browser`` and ``new_page`` come from tests/browser/conftest.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.helpers import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 800}

BOT_TIMEOUT_MS = 60_000  # first answers of a cold Rasa can be slow on a small machine
UI_TIMEOUT_MS = 15_000
XSS = "<script>alert(1)</script>"


class Widget:
    """The widget's stable hooks (data-testid), reached through its open shadow root."""

    def __init__(self, page: Any) -> None:
        self.page = page
        tid = page.get_by_test_id
        self.launcher = tid("vt-launcher")
        self.panel = tid("vt-panel")
        self.log = tid("vt-log")
        self.input = tid("vt-input")
        self.send_button = tid("vt-send")
        self.status = tid("vt-status")
        self.error = tid("vt-error")
        self.typing = tid("vt-typing")
        self.user = tid("vt-msg-user")
        self.bot = tid("vt-msg-bot")
        self.quick_replies = tid("vt-quick-reply")

    def wait_online(self) -> None:
        expect(self.status).to_have_text("En línea", timeout=UI_TIMEOUT_MS)

    def type_and_press_enter(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def type_and_click_send(self, text: str) -> None:
        self.input.fill(text)
        self.send_button.click()

    def texts(self, bubbles: Any) -> list[str]:
        return bubbles.get_by_test_id("vt-msg-text").all_inner_texts()

    def wait_user_sent(self, count: int) -> None:
        """``count`` user bubbles, the last one acknowledged by the server."""
        expect(self.user).to_have_count(count, timeout=UI_TIMEOUT_MS)
        expect(self.user.last).to_have_attribute("data-state", "sent", timeout=BOT_TIMEOUT_MS)

    def wait_new_bot_reply(self, previous_count: int) -> None:
        expect(self.bot.nth(previous_count)).to_be_visible(timeout=BOT_TIMEOUT_MS)

    def greet_and_get_menu(self) -> Any:
        """Says "hola"; the bot greets, shows the privacy notice and a menu with "Cita médica"."""
        self.type_and_press_enter("hola")
        expect(self.user.first).to_contain_text("hola", timeout=UI_TIMEOUT_MS)
        privacy = self.bot.filter(has_text=re.compile("privacidad", re.IGNORECASE))
        expect(privacy.first).to_be_visible(timeout=BOT_TIMEOUT_MS)
        cita = self.quick_replies.filter(has_text="Cita").first
        expect(cita).to_be_visible(timeout=BOT_TIMEOUT_MS)
        return cita


def _stored_session(page: Any) -> str | None:
    return page.evaluate("() => localStorage.getItem('ventanilla.session')")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_chat_quick_reply_reload_and_literal_text(
    system: Any, new_page: Any, screenshot_dir: Path, viewport: dict[str, int]
) -> None:
    page = new_page(viewport)
    widget = Widget(page)
    page.goto(system.base_url.rstrip("/") + "/")

    # The home page embeds the widget with data-open="true": it is there, open and connected.
    expect(widget.panel).to_be_visible(timeout=UI_TIMEOUT_MS)
    widget.wait_online()
    box = widget.panel.bounding_box()
    assert box is not None
    if viewport is PHONE:
        # On a phone the open panel takes the whole viewport.
        assert (box["x"], box["y"]) == (0, 0)
        assert box["width"] == pytest.approx(PHONE["width"], abs=1)
        assert box["height"] == pytest.approx(PHONE["height"], abs=1)
    else:
        # On a desktop it floats at the bottom right, above the launcher.
        assert 300 <= box["width"] <= 420 and 400 <= box["height"] <= 600
        assert box["x"] + box["width"] > DESKTOP["width"] - 60
        expect(widget.launcher).to_be_visible()
        expect(widget.launcher).to_have_attribute("aria-label", "Cerrar chat")

    # Accessible names and roles (Playwright's role queries pierce the shadow root too).
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("textbox", name="Escribe tu mensaje")).to_be_visible()
    expect(page.get_by_role("button", name="Enviar")).to_be_visible()
    expect(widget.input).to_have_attribute("placeholder", "Escribe tu mensaje…")

    # "hola" with Enter → greeting, privacy notice, menu with quick replies.
    cita = widget.greet_and_get_menu()
    widget.wait_user_sent(1)
    if viewport is PHONE:
        page.screenshot(path=str(screenshot_dir / "webchat-phone.png"))

    # A quick reply is sent as the user's message (its title) and gets a new bot reply.
    cita_title = cita.inner_text().strip()
    bots_before = widget.bot.count()
    cita.click()
    widget.wait_user_sent(2)
    assert widget.texts(widget.user)[-1] == cita_title
    widget.wait_new_bot_reply(bots_before)
    expect(widget.typing).to_be_hidden(timeout=BOT_TIMEOUT_MS)

    # Reload: the same conversation comes back from the server.
    user_texts = widget.texts(widget.user)
    bot_texts = widget.texts(widget.bot)
    session = _stored_session(page)
    assert session
    page.reload()
    widget.wait_online()
    expect(widget.user).to_have_count(len(user_texts), timeout=UI_TIMEOUT_MS)
    expect(widget.bot).to_have_count(len(bot_texts), timeout=UI_TIMEOUT_MS)
    assert widget.texts(widget.user) == user_texts
    assert widget.texts(widget.bot)[: len(bot_texts)] == bot_texts
    rotated = _stored_session(page)  # each hello answers with a new secret
    assert rotated and rotated != session

    # Markup typed by a person is shown as the characters they typed, never run.
    bots_before = widget.bot.count()
    widget.type_and_click_send(XSS)
    widget.wait_user_sent(len(user_texts) + 1)
    last_text = widget.user.last.get_by_test_id("vt-msg-text")
    expect(last_text).to_have_text(XSS)
    assert last_text.evaluate("el => el.childElementCount") == 0
    expect(page.locator("[data-testid=vt-log] script")).to_have_count(0)
    widget.wait_new_bot_reply(bots_before)  # the round trip finished; nothing ran meanwhile
    expect(widget.input).to_have_value("")
    assert page.dialogs == []
    assert page.js_errors == []


def test_keyboard_only(system: Any, new_page: Any) -> None:
    """Tab reaches the input, the send button and the quick replies; Enter sends."""
    page = new_page(DESKTOP)
    widget = Widget(page)
    page.goto(system.base_url.rstrip("/") + "/")
    widget.wait_online()

    widget.input.focus()
    page.keyboard.type("hola")
    page.keyboard.press("Enter")
    expect(widget.quick_replies.first).to_be_visible(timeout=BOT_TIMEOUT_MS)

    def focused_testid() -> str | None:
        return page.evaluate(
            """() => {
                let el = document.activeElement;
                while (el && el.shadowRoot && el.shadowRoot.activeElement) {
                    el = el.shadowRoot.activeElement;
                }
                return el ? el.getAttribute('data-testid') : null;
            }"""
        )

    widget.input.focus()
    page.keyboard.press("Tab")
    assert focused_testid() == "vt-send"
    widget.input.focus()
    # Backwards from the input: the quick replies come first (they follow the latest bot message).
    seen = []
    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        seen.append(focused_testid())
        if seen[-1] == "vt-quick-reply":
            break
    assert "vt-quick-reply" in seen, seen
    users_before = widget.user.count()
    page.keyboard.press("Enter")  # activates the focused quick reply
    widget.wait_user_sent(users_before + 1)
    assert page.js_errors == []


@pytest.fixture
def other_origin(system: Any) -> Iterator[str]:
    """A page on another origin (another port) holding only the widget's script tag."""
    widget_url = system.base_url.rstrip("/") + "/webchat/widget.js"
    body = (
        "<!doctype html>\n"
        '<html lang="es-MX"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Sitio de otra dependencia</title></head><body>\n"
        f'<script src="{widget_url}" defer></script>\n'
        "</body></html>\n"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="other-origin", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_embedded_from_another_origin(system: Any, new_page: Any, other_origin: str) -> None:
    page = new_page(DESKTOP)
    widget = Widget(page)
    page.goto(other_origin)
    base = system.base_url.rstrip("/")
    assert urlsplit(page.url).netloc != urlsplit(base).netloc  # really another origin

    # Without data-open the widget starts closed: only the launcher shows.
    expect(widget.launcher).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(widget.launcher).to_have_attribute("aria-label", "Abrir chat")
    expect(widget.panel).to_be_hidden()
    widget.launcher.click()
    expect(widget.panel).to_be_visible()
    expect(widget.input).to_be_focused()
    widget.wait_online()

    # The widget found its server from its own script URL, not from the page.
    privacy_link = page.get_by_role("link", name="Aviso de privacidad")
    expect(privacy_link).to_have_attribute("href", base + "/privacidad")

    cita = widget.greet_and_get_menu()
    bots_before = widget.bot.count()
    cita.click()
    widget.wait_user_sent(2)
    widget.wait_new_bot_reply(bots_before)
    # The session id is kept in the embedding site's storage.
    assert _stored_session(page)
    assert page.js_errors == []


def test_reconnects_resumes_and_sends_what_was_typed_offline(system: Any, new_page: Any) -> None:
    """The socket drops (cut by the test between page and gateway): the widget says so,
    keeps what is typed meanwhile, reconnects with the stored session and sends it."""
    page = new_page(PHONE)
    widget = Widget(page)
    state: dict[str, Any] = {"down": False, "routes": [], "hellos": []}

    def route(ws: Any) -> None:
        if state["down"]:
            ws.close(code=1011, reason="down")  # the "gateway" refuses while it is down
            return
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str):
                frame = json.loads(message)
                if frame.get("type") == "hello":
                    state["hellos"].append(frame)
            server.send(message)

        ws.on_message(from_page)
        state["routes"].append(server)

    page.route_web_socket(re.compile(r"/webchat/ws$"), route)
    page.goto(system.base_url.rstrip("/") + "/")
    widget.wait_online()
    widget.greet_and_get_menu()
    widget.wait_user_sent(1)
    session = _stored_session(page)
    assert state["hellos"] == [{"type": "hello", "session": None}]
    bots_before = widget.bot.count()

    # Cut the connection and keep the "gateway" down.
    state["down"] = True
    for server in state["routes"]:
        server.close()
    expect(widget.status).to_have_text("Sin conexión. Reintentando…", timeout=UI_TIMEOUT_MS)

    # Typed while offline: shown, marked pending, not lost.
    widget.type_and_press_enter("quiero una cita médica")
    expect(widget.user).to_have_count(2)
    expect(widget.user.last).to_have_attribute("data-state", "pending")
    expect(widget.input).to_have_value("")
    page.wait_for_timeout(2_500)  # a couple of refused reconnection attempts
    expect(widget.user.last).to_have_attribute("data-state", "pending")

    # The gateway is back: the widget reconnects (backoff ≤ 15 s) with the same session,
    # the history comes back without duplicates and the pending message goes out.
    state["down"] = False
    widget.wait_online()
    assert state["hellos"][-1] == {"type": "hello", "session": session}
    widget.wait_user_sent(2)
    assert widget.texts(widget.user) == ["hola", "quiero una cita médica"]
    widget.wait_new_bot_reply(bots_before)
    ids = widget.log.locator("[data-id]").evaluate_all("els => els.map(e => e.dataset.id)")
    assert len(ids) == len(set(ids)), ids
    assert _stored_session(page) not in (None, session)  # the reconnection rotated it
    assert page.js_errors == []


def test_unknown_session_starts_a_new_one_with_a_notice(system: Any, new_page: Any) -> None:
    page = new_page(PHONE)
    widget = Widget(page)
    page.add_init_script(
        "if (!sessionStorage.getItem('vt-test-seeded')) {"
        "  sessionStorage.setItem('vt-test-seeded', '1');"
        "  localStorage.setItem('ventanilla.session', 'sesion-que-no-existe');"
        "}"
    )
    page.goto(system.base_url.rstrip("/") + "/")
    widget.wait_online()
    expect(page.get_by_test_id("vt-notice")).to_contain_text("No encontramos tu conversación")
    new_session = _stored_session(page)
    assert new_session and new_session != "sesion-que-no-existe"
    expect(widget.user).to_have_count(0)


def test_a_session_left_idle_starts_anew_with_a_notice_and_shows_nothing_of_before(
    system: Any, new_page: Any
) -> None:
    first = new_page(PHONE)
    widget = Widget(first)
    first.goto(system.base_url.rstrip("/") + "/")
    widget.wait_online()
    widget.greet_and_get_menu()
    secret = _stored_session(first)
    assert secret
    first.close()  # the person leaves; the gateway marks the session used at this moment
    time.sleep(1)
    # 31 minutes pass (VENTANILLA_WEBCHAT_IDLE_MINUTES is 30).
    database = Path(system.env["VENTANILLA_VAR_DIR"]) / "ventanilla.db"
    long_ago = (datetime.now(UTC) - timedelta(minutes=31)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(database) as connection:
        changed = connection.execute(
            "UPDATE webchat_sessions SET last_seen_at = ? WHERE sender ="
            " (SELECT sender FROM webchat_secrets WHERE secret_sha256 = ?)",
            (long_ago, hashlib.sha256(secret.encode()).hexdigest()),
        ).rowcount
    assert changed == 1

    # The next person at this computer opens the chat: a new conversation, with a notice.
    page = new_page(PHONE)
    widget = Widget(page)
    page.add_init_script(f"localStorage.setItem('ventanilla.session', {json.dumps(secret)});")
    page.goto(system.base_url.rstrip("/") + "/")
    widget.wait_online()
    expect(page.get_by_test_id("vt-notice")).to_contain_text("se cerró por inactividad")
    expect(widget.user).to_have_count(0)
    expect(widget.bot).to_have_count(0)


@pytest.mark.parametrize("length", [20_000, 100_000], ids=["long-message", "huge-frame"])
def test_error_gives_the_text_back(system: Any, new_page: Any, length: int) -> None:
    """A message the gateway refuses (too long) is marked not sent and returns to the input.

    The huge one is refused before the gateway reads its JSON, so its error may carry no
    client_id; the widget still knows which message it was (the oldest one not acknowledged).
    """
    page = new_page(DESKTOP)
    widget = Widget(page)
    page.goto(system.base_url.rstrip("/") + "/")
    widget.wait_online()
    too_long = "a" * length
    widget.input.fill(too_long)
    widget.send_button.click()
    expect(widget.error).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(widget.error).not_to_be_empty()
    expect(widget.user.last).to_have_attribute("data-state", "failed")
    expect(widget.input).to_have_value(too_long)
    assert page.js_errors == []


def test_privacy_notice_page(system: Any, new_page: Any) -> None:
    page = new_page(PHONE)
    page.goto(system.base_url.rstrip("/") + "/privacidad")
    expect(page.get_by_role("heading", level=1)).to_have_text("Aviso de privacidad")
    body = page.locator("body")
    for word in ("Instituto", "NSS", "CURP", "Acceso", "Rectificación", "Cancelación", "Oposición"):
        expect(body).to_contain_text(word)
    assert page.evaluate("document.documentElement.lang") == "es-MX"


def test_an_emergency_shows_the_calls_to_make(system: Any, new_page: Any) -> None:
    page = new_page(PHONE)
    widget = Widget(page)
    page.goto(system.base_url.rstrip("/") + "/")
    widget.wait_online()
    widget.type_and_press_enter("ya no kiero vivir")
    alert = page.get_by_test_id("vt-alert")
    expect(alert).to_be_visible(timeout=BOT_TIMEOUT_MS)
    expect(alert).to_have_attribute("data-kind", "suicidio")
    calls = alert.get_by_role("link")
    expect(calls).to_have_count(2)
    assert calls.nth(0).get_attribute("href") == "tel:911"
    assert calls.nth(1).get_attribute("href") == "tel:8009112000"
    expect(widget.bot.first).to_contain_text("800 911 2000")
