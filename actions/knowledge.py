"""Questions about procedures and services, answered from the knowledge base."""

from __future__ import annotations

import json
import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from core.protocol import ArticleRef, article_message
from core.settings import get_settings
from knowledge_base import agencies
from knowledge_base.answers import Answers
from knowledge_base.search import Document

_answers: Answers | None = None


def answers() -> Answers:
    global _answers
    if _answers is None:
        _answers = Answers(get_settings())
    return _answers


def chat_text(markdown: str) -> str:
    """Markdown as chat text: no emphasis marks, and no blank lines (Rasa's REST channel would
    split the answer into several messages at each one)."""
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), markdown)
    return "\n".join(line for line in text.splitlines() if line.strip())


def answer_text(title: str, body: str, source: str | None) -> str:
    text = f"{title}\n{chat_text(body)}"
    return f"{text}\nFuente: {source}" if source else text


FULL_ANSWER = {"title": "Ver la respuesta completa", "payload": "/kb_full_answer"}
# Channels where the short answer is the answer: an SMS is paid per 70 characters with accents,
# and a whole article would take dozens (its source still says where to read the rest).
SHORT_ONLY_CHANNELS = frozenset({"sms"})


def channel_of(tracker: Tracker) -> str | None:
    """The channel the person writes on (the gateway sends it as the message's metadata)."""
    return (tracker.latest_message.get("metadata") or {}).get("channel")


def say_article(
    dispatcher: CollectingDispatcher,
    document: Document,
    whole: bool = False,
    channel: str | None = None,
) -> None:
    """An article as the person reads it: its short answer first (the whole one on request, or
    when it has none), its source, then "¿Te sirvió?"; the article named for the gateway. On SMS
    the whole one is not offered."""
    short = None if whole else document.short_answer
    dispatcher.utter_message(
        text=answer_text(document.title, short or document.body, document.source)
    )
    dispatcher.utter_message(
        json_message=article_message(
            ArticleRef(id=document.id, title=document.title, source=document.source or "")
        )
    )
    # Rasa adds these buttons after the response's own ("Sí", "No").
    more = short is not None and channel not in SHORT_ONLY_CHANNELS
    dispatcher.utter_message(response="utter_ask_helpful", buttons=[FULL_ANSWER] if more else [])


def say_whose(question: str, dispatcher: CollectingDispatcher) -> bool:
    """Another agency's procedure: say whose it is and where to go (not a wrong article)."""
    agency = agencies.match(question)
    if agency is None:
        return False
    dispatcher.utter_message(
        response="utter_kb_other_agency",
        agency=agency.called,
        handles=agency.handles,
        contact=agency.contact.text(),
    )
    return True


class ActionOutOfScope(Action):
    """What the classifier calls out of scope: another agency's procedure gets whose it is;
    chatter and anything else gets what the bot does and the menu."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not say_whose((tracker.latest_message.get("text") or "").strip(), dispatcher):
            dispatcher.utter_message(response="utter_out_of_scope")
            dispatcher.utter_message(response="utter_main_menu")
        return []


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = (tracker.latest_message.get("text") or "").strip()
        if not question or question.startswith("/"):  # a menu button, not a question
            # A topic button sets the campaign slot (an entity of its payload): its articles
            # rank first from now on.
            topic_chosen = "campaign" in question
            dispatcher.utter_message(
                response="utter_topic_chosen" if topic_chosen else "utter_ask_your_question"
            )
            return [SlotSet("kb_article", None)]
        if say_whose(question, dispatcher):
            return [SlotSet("kb_article", None), SlotSet("kb_question", None)]
        campaign = tracker.get_slot("campaign")
        found, confidence = answers().best(question, campaign)
        if found is None:
            answers().record_unanswered(question, campaign, confidence)
            dispatcher.utter_message(response="utter_kb_no_answer")
            return [SlotSet("kb_article", None), SlotSet("kb_question", None)]
        document = found.document
        if found.runner_up is not None:  # a close call: ask rather than guess
            dispatcher.utter_message(
                response="utter_kb_which_one",
                buttons=[pick_button(document), pick_button(found.runner_up), NEITHER],
            )
            return [SlotSet("kb_article", None), SlotSet("kb_question", question[:500])]
        say_article(dispatcher, document, channel=channel_of(tracker))
        return [SlotSet("kb_article", document.id), SlotSet("kb_question", question[:500])]


NEITHER = {"title": "Ninguna de estas", "payload": "/deny"}


def pick_button(document: Document) -> dict[str, str]:
    return {
        "title": document.title,
        "payload": "/kb_pick" + json.dumps({"kb_article": document.id}),
    }


class ActionKbPick(Action):
    """One of the close call's articles was chosen: its short answer."""

    def name(self) -> str:
        return "action_kb_pick"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        article_id = next(tracker.get_latest_entity_values("kb_article"), None)
        document = answers().article(str(article_id)) if article_id else None
        if document is None:
            dispatcher.utter_message(response="utter_ask_your_question")
            return [SlotSet("kb_article", None)]
        say_article(dispatcher, document, channel=channel_of(tracker))
        return [SlotSet("kb_article", document.id)]


class ActionKbFullAnswer(Action):
    """ "Ver la respuesta completa": the whole article the short answer came from."""

    def name(self) -> str:
        return "action_kb_full_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        article_id = tracker.get_slot("kb_article")
        document = answers().article(article_id) if article_id else None
        if document is None:  # nothing was answered, or the article was unpublished since
            dispatcher.utter_message(response="utter_ask_your_question")
            return [SlotSet("kb_article", None)]
        say_article(dispatcher, document, whole=True)
        return []


class ActionKbFeedback(Action):
    """ "¿Te sirvió?" answered: stored with the article and the question."""

    def name(self) -> str:
        return "action_kb_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        article = tracker.get_slot("kb_article")
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        if article is None:  # nothing was asked: an ordinary yes or no
            dispatcher.utter_message(response="utter_affirm" if helpful else "utter_deny")
            return []
        answers().record_feedback(article, helpful, tracker.get_slot("kb_question") or "")
        dispatcher.utter_message(response="utter_kb_helpful" if helpful else "utter_kb_not_helpful")
        return [SlotSet("kb_article", None), SlotSet("kb_question", None)]
