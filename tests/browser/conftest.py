"""Browser tests: Debian's chromium driven by the Python ``playwright`` package (sync API).

Playwright's own browser download does not work on this machine, so the tests launch
``/usr/bin/chromium`` (``apt-get install chromium``). Without it, or without the ``playwright``
package, every test in this folder is skipped at collection time with the reason, before the
``system`` fixture (gateway + Rasa + action server, from ``tests/conftest.py``) is started.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
SCREENSHOT_DIR = PROJECT_ROOT / "var" / "screenshots"

DESKTOP = {"width": 1280, "height": 800}


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return (
            f"{CHROMIUM} not found: the browser tests need Debian's chromium "
            "(apt-get install -y chromium); playwright's own browser download is not used"
        )
    if importlib.util.find_spec("playwright") is None:
        return "the Python 'playwright' package is not installed (requirements/main.txt)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Per module, not per session: playwright's sync API keeps an event loop running in the
    # main thread while it is open, and pytest-asyncio's tests cannot run beside it.
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Factory: ``new_page(viewport)`` gives a page in a fresh context (empty localStorage).

    Each page records JavaScript dialogs and uncaught errors in ``page.dialogs`` and
    ``page.js_errors`` so tests can assert that nothing fired.
    """
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP, **context_options: Any) -> Any:
        phone = viewport["width"] < 600
        context = browser.new_context(
            viewport=viewport,
            locale="es-MX",
            is_mobile=phone,
            has_touch=phone,
            **context_options,
        )
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.js_errors = []

        def on_dialog(dialog: Any) -> None:
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
