"""The editors' pages (/editores) in a real browser, against the running system.

One editor changes a published article and sends it to review; she cannot approve her own
change; a second editor approves and publishes it; the bot's next answer to one of the
article's questions has the change, with nothing restarted. The system's knowledge base is
seeded with the shipped articles (knowledge_base/articles/) by the launcher.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from connectors.webchat.client import ChatClient, bot_texts
from tests.browser.helpers import UI_TIMEOUT_MS, expect, sign_in
from tests.utils.staff import create_user
from ventanilla.launcher import RunningSystem

pytestmark = pytest.mark.browser

ARTICLE = "vigencia-de-derechos"  # knowledge_base/articles/vigencia-de-derechos.md, published
TITLE = "Consultar tu vigencia de derechos"
QUESTION = "quiero saber si todavia tengo seguro medico"  # one of the article's questions
PUBLISH_TIMEOUT_MS = 120_000  # publishing rebuilds the index before answering


def ask(system: RunningSystem, question: str) -> str:
    """A new web chat user asks, then asks for the whole answer (the bot says the short one
    first); all the bot's texts of both turns, joined."""
    chat = ChatClient(system.ws_url)
    try:
        texts = bot_texts(chat.turn(question))
        texts += bot_texts(chat.turn("Ver la respuesta completa", payload="/kb_full_answer"))
        return "\n".join(texts)
    finally:
        chat.close()


def test_an_edit_reaches_the_bot_once_a_second_editor_publishes_it(
    system: RunningSystem, new_page: Any, screenshot_dir: Path
) -> None:
    create_user(system, "eva.editora", "editor")
    create_user(system, "elio.editor", "editor")
    marker = f"Dato de prueba editorial {uuid.uuid4().hex[:10]}."

    # Editor 1 finds the article in the list and opens it. (Other tests of the shared system
    # may have left a newer draft of it: whatever its state, some version of it is live.)
    eva = new_page()
    sign_in(eva, f"{system.base_url}/editores", "eva.editora")
    eva.get_by_test_id("article-search").fill("vigencia de derechos")
    row = eva.get_by_test_id(f"article-row-{ARTICLE}")
    expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    row.get_by_role("link", name=TITLE).click()
    body = eva.get_by_test_id("field-body")
    badge = eva.get_by_test_id("status-badge")
    expect(eva.get_by_test_id("field-title")).to_have_value(TITLE, timeout=UI_TIMEOUT_MS)
    expect(eva.get_by_test_id("live-info")).to_contain_text(
        re.compile("El bot responde con esta versión|la versión publicada es la")
    )
    expect(eva.get_by_test_id("field-questions")).to_have_value(re.compile(re.escape(QUESTION)))
    original = body.input_value()
    assert "Constancia de Vigencia de Derechos" in original

    # The short answer comes with a live counter "N/300" that says when it is too long.
    short = eva.get_by_test_id("field-short-answer")
    counter = eva.get_by_test_id("short-answer-count")
    summary = short.input_value()
    assert 0 < len(summary) <= 300
    expect(counter).to_contain_text(f"{len(summary)}/300")
    short.fill("x" * 301)
    expect(counter).to_contain_text("301/300")
    expect(eva.get_by_test_id("short-answer-announce")).to_contain_text("pasa de 300")
    short.fill(summary)
    expect(counter).to_contain_text(f"{len(summary)}/300")

    # She changes the answer, saves a draft and sends it to review.
    body.fill(f"{original}\n\n{marker}")
    eva.get_by_test_id("save-draft").click()
    expect(eva.get_by_test_id("notice")).to_contain_text("Borrador guardado", timeout=UI_TIMEOUT_MS)
    expect(badge).to_have_text("Borrador")
    expect(eva.get_by_test_id("live-info")).to_contain_text("la versión publicada es la")
    eva.get_by_test_id("submit-review").click()
    expect(badge).to_have_text("En revisión", timeout=UI_TIMEOUT_MS)

    # She cannot approve her own change: the refusal is shown in Spanish.
    eva.get_by_test_id("publish").click()
    expect(eva.get_by_test_id("form-error")).to_contain_text(
        "Otra persona editora debe aprobar", timeout=UI_TIMEOUT_MS
    )
    expect(badge).to_have_text("En revisión")
    eva.screenshot(path=str(screenshot_dir / "editores-en-revision.png"), full_page=True)

    # Until it is published the bot answers with the published version.
    before = ask(system, QUESTION)
    assert TITLE in before and marker not in before, before

    # Editor 2, in another browser context, reviews the change and publishes it.
    elio = new_page()
    sign_in(elio, f"{system.base_url}/editores/articulo?id={ARTICLE}", "elio.editor")
    expect(elio.get_by_test_id("status-badge")).to_have_text("En revisión", timeout=UI_TIMEOUT_MS)
    expect(elio.get_by_test_id("field-body")).to_have_value(re.compile(re.escape(marker)))
    expect(elio.get_by_test_id("review-info")).to_contain_text("eva.editora")
    elio.get_by_test_id("publish").click()
    expect(elio.get_by_test_id("status-badge")).to_have_text(
        "Publicado", timeout=PUBLISH_TIMEOUT_MS
    )
    expect(elio.get_by_test_id("notice")).to_contain_text("Publicado")
    expect(elio.get_by_test_id("live-info")).to_contain_text("El bot responde con esta versión")

    # The revisions say who changed what; the diff shows the added sentence as added.
    latest = elio.locator("[data-testid^='revision-row-']").first
    expect(latest).to_contain_text("eva.editora")
    latest.locator("[data-testid^='diff-']").click()
    added = elio.get_by_test_id("diff-view").locator("[data-kind='add']")
    expect(added.filter(has_text=marker)).to_have_count(1, timeout=UI_TIMEOUT_MS)
    elio.screenshot(path=str(screenshot_dir / "editores-publicado.png"), full_page=True)

    # A web chat user asks one of the article's questions: the answer has the change.
    after = ask(system, QUESTION)
    assert marker in after, after

    for page in (eva, elio):
        assert page.js_errors == [] and page.dialogs == [], (page.js_errors, page.dialogs)


def test_an_unanswered_question_becomes_a_draft_from_its_page(
    system: RunningSystem, new_page: Any
) -> None:
    create_user(system, "ulises.editor", "editor")
    question = "como tramito la licencia de pesca deportiva"  # the base does not answer it
    assert "No encontré una respuesta confiable" in ask(system, question)

    page = new_page()
    sign_in(page, f"{system.base_url}/editores/sin-respuesta", "ulises.editor")
    group = page.locator("[data-testid^='unanswered-group-']", has_text=question).first
    expect(group).to_be_visible(timeout=UI_TIMEOUT_MS)
    index = group.get_attribute("data-testid").rsplit("-", 1)[1]
    page.get_by_test_id(f"draft-from-group-{index}").click()
    page.get_by_test_id(f"draft-id-{index}").fill("pesca-deportiva-navegador")
    page.get_by_test_id(f"draft-title-{index}").fill("Licencia de pesca deportiva")
    page.get_by_test_id(f"draft-campaign-{index}").select_option("bienestar_social")
    page.get_by_test_id(f"draft-submit-{index}").click()
    # The new draft opens in the editor, with the people's question as its first phrasing.
    expect(page.get_by_test_id("field-questions")).to_have_value(
        re.compile(re.escape(question)), timeout=UI_TIMEOUT_MS
    )
    expect(page.get_by_test_id("status-badge")).to_have_text("Borrador")
    assert page.js_errors == [] and page.dialogs == []
