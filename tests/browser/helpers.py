"""What the browser tests share: playwright's `expect`, and signing in to a staff page."""

from __future__ import annotations

from typing import Any

from tests.utils.staff import PASSWORD

UI_TIMEOUT_MS = 20_000


def expect(*args: Any, **kwargs: Any) -> Any:
    from playwright.sync_api import expect as pw_expect  # only once chromium is known to exist

    return pw_expect(*args, **kwargs)


def sign_in(page: Any, url: str, username: str) -> None:
    """Through the page's own login form, as a person would."""
    page.goto(url)
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("session-user")).to_contain_text(username, timeout=UI_TIMEOUT_MS)
