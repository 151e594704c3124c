"""The knowledge base in the conversation: the short answer first, the whole one on request, the
article named for the gateway (rasa_sdk trackers built here; the search is a stub)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge
from knowledge_base.search import Document

pytestmark = pytest.mark.asyncio

NSS = Document(
    id="obtener-nss",
    title="Obtener tu NSS",
    body="**Pasos:**\n1. Entra a imss.gob.mx.\n2. Escribe tu CURP.",
    source="IMSS, trámite de NSS",
    short_answer="Sácalo gratis en imss.gob.mx o la app IMSS Digital con tu CURP y tu correo.",
)


@dataclass
class Found:
    document: Document
    runner_up: Document | None = None


class Stub:
    def __init__(self, document: Document) -> None:
        self.document = document

    def best(self, question: str, campaign: str | None = None) -> tuple[Any, float]:
        return Found(self.document), 0.9

    def article(self, article_id: str) -> Document | None:
        return self.document if article_id == self.document.id else None


def tracker(text: str, kb_article: str | None = None, channel: str = "webchat") -> Tracker:
    message = {
        "text": text,
        "intent": {"name": "ask_question", "confidence": 0.9},
        "metadata": {"channel": channel},
    }
    return Tracker(
        "c1",
        {"kb_article": kb_article, "campaign": None},
        message,
        [],
        False,
        None,
        {},
        "action_listen",
    )


async def run(
    action: Any, t: Tracker, monkeypatch: pytest.MonkeyPatch, doc: Document = NSS
) -> list:
    monkeypatch.setattr(knowledge, "answers", lambda: Stub(doc))
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, t, {})
    return dispatcher.messages


async def test_the_short_answer_comes_first_with_the_whole_one_on_offer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, article, helpful = await run(
        knowledge.ActionAnswerQuestion(), tracker("como saco mi nss"), monkeypatch
    )
    assert text["text"] == f"Obtener tu NSS\n{NSS.short_answer}\nFuente: IMSS, trámite de NSS"
    assert article["custom"] == {
        "ventanilla": {
            "article": {
                "id": "obtener-nss",
                "title": "Obtener tu NSS",
                "source": "IMSS, trámite de NSS",
            }
        }
    }
    assert helpful["response"] == "utter_ask_helpful"
    assert helpful["buttons"] == [knowledge.FULL_ANSWER]


@pytest.mark.parametrize(("channel", "offered"), [("sms", False), ("whatsapp", True)])
async def test_on_sms_the_short_answer_is_the_answer(
    monkeypatch: pytest.MonkeyPatch, channel: str, offered: bool
) -> None:
    text, _, helpful = await run(
        knowledge.ActionAnswerQuestion(), tracker("como saco mi nss", channel=channel), monkeypatch
    )
    assert NSS.short_answer in text["text"] and "Fuente: IMSS" in text["text"]
    assert helpful["buttons"] == ([knowledge.FULL_ANSWER] if offered else [])


async def test_the_whole_answer_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    text, _, helpful = await run(
        knowledge.ActionKbFullAnswer(), tracker("/kb_full_answer", "obtener-nss"), monkeypatch
    )
    assert "1. Entra a imss.gob.mx." in text["text"] and "**" not in text["text"]
    assert helpful["buttons"] == []  # nothing more to show
    # Nothing answered before (or unpublished since): the bot asks for the question instead.
    [message] = await run(knowledge.ActionKbFullAnswer(), tracker("/kb_full_answer"), monkeypatch)
    assert message["response"] == "utter_ask_your_question"


async def test_an_article_without_a_short_answer_is_said_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draft_like = Document(id="x", title="X", body="Todo el texto.", source="IMSS")
    text, _, helpful = await run(
        knowledge.ActionAnswerQuestion(), tracker("pregunta"), monkeypatch, draft_like
    )
    assert text["text"] == "X\nTodo el texto.\nFuente: IMSS" and helpful["buttons"] == []


CITA = Document(
    id="cancelar-cita",
    title="Cancelar tu cita",
    body="…",
    source="IMSS",
    short_answer="Cancélala en la app IMSS Digital, en «Mis citas».",
)


async def test_a_close_call_asks_which_one_and_the_choice_is_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class CloseCall(Stub):
        def best(self, question: str, campaign: str | None = None) -> tuple[Any, float]:
            return Found2(NSS, CITA), 0.8

    @dataclass
    class Found2:
        document: Document
        runner_up: Document

    monkeypatch.setattr(knowledge, "answers", lambda: CloseCall(NSS))
    dispatcher = CollectingDispatcher()
    await knowledge.ActionAnswerQuestion().run(dispatcher, tracker("nss o cita"), {})
    [question] = dispatcher.messages
    assert question["response"] == "utter_kb_which_one"
    assert [b["title"] for b in question["buttons"]] == [
        "Obtener tu NSS",
        "Cancelar tu cita",
        "Ninguna de estas",
    ]
    assert question["buttons"][1]["payload"] == '/kb_pick{"kb_article": "cancelar-cita"}'

    picked = tracker('/kb_pick{"kb_article": "obtener-nss"}')
    picked.latest_message["entities"] = [{"entity": "kb_article", "value": "obtener-nss"}]
    text, _, _ = await run(knowledge.ActionKbPick(), picked, monkeypatch)
    assert NSS.short_answer in text["text"]
