"""How answers are shown in the chat, and how unanswered questions are grouped."""

from __future__ import annotations

import numpy as np

from actions.knowledge import answer_text
from knowledge_base.unanswered import group, representative


def test_an_answer_is_one_chat_message_with_its_title_and_source() -> None:
    text = answer_text("Tu NSS", "Es tu **número**.\n\n**Pasos:**\n1. Entra.\n\n- Listo", "IMSS")
    assert text == "Tu NSS\nEs tu número.\nPasos:\n1. Entra.\n- Listo\nFuente: IMSS"
    assert "\n\n" not in text  # Rasa's REST channel splits messages at blank lines


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_similar_questions_group_together_the_most_asked_first() -> None:
    texts = ["¿clima?", "¿cómo pago?", "pago de cuotas", "¿dónde pago?", "¿llueve?"]
    vectors = np.stack(
        [unit(1, 0, 0), unit(0, 1, 0), unit(0, 0.95, 0.1), unit(0.05, 1, 0), unit(0.97, 0, 0.1)]
    )
    groups = group(vectors, threshold=0.9)
    assert groups == [[1, 2, 3], [0, 4]]
    assert representative(texts, groups[0]) == "¿cómo pago?"
    assert group(vectors, threshold=0.999) == [[0], [1], [2], [3], [4]]


def test_a_close_call_is_two_confident_articles_nearly_as_likely(tmp_path) -> None:
    from core.settings import Settings
    from knowledge_base.answers import CLOSE_CALL_MARGIN, Answers
    from knowledge_base.search import Document
    from knowledge_base.search.index import Hit

    answers = Answers(Settings(_env_file=None, var_dir=tmp_path, kb_min_confidence=0.7))

    class Index:
        def get(self, doc_id: str) -> Document:
            return Document(id=doc_id, title=doc_id, body="")

        def plausible(self, hit: Hit) -> bool:  # the second stage's veto
            return hit.rerank >= 0.03

    def hit(doc_id: str, confidence: float, rerank: float = 0.5) -> Hit:
        return Hit(doc_id, doc_id, 0, 0, 0, None, confidence, rerank)

    near = 0.8 - CLOSE_CALL_MARGIN / 2
    assert answers._close_call(Index(), hit("a", 0.8), [hit("b", near)]).id == "b"  # type: ignore
    # As confident, but the second stage does not believe it: no choice offered.
    assert answers._close_call(Index(), hit("a", 0.8), [hit("b", near, 0.01)]) is None  # type: ignore
    assert answers._close_call(Index(), hit("a", 0.8), [hit("b", 0.7)]) is None  # not as likely
    assert answers._close_call(Index(), hit("a", 0.71), [hit("b", 0.695)]) is None  # not confident
    assert answers._close_call(Index(), hit("a", 0.8), []) is None


def test_questions_kept_for_the_editors_have_identifiers_masked(tmp_path) -> None:
    """People write their NSS or phone number into questions: what editors read at
    /editores/sin-respuesta and the feedback list is stored masked."""
    import sqlite3

    from core import db
    from core.settings import Settings
    from knowledge_base.answers import Answers

    settings = Settings(_env_file=None, var_dir=tmp_path)
    assert settings.database_url
    db.migrate(settings.database_url)
    answers = Answers(settings)
    answers.record_unanswered("mi NSS es 12345678901, ¿qué hago?", None, 0.4)
    answers.record_feedback("obtener-nss", False, "llámenme al (55) 1234 5678")
    with sqlite3.connect(tmp_path / "ventanilla.db") as connection:
        [(unanswered,)] = connection.execute("SELECT query FROM kb_unanswered")
        [(feedback,)] = connection.execute("SELECT query FROM kb_feedback")
    assert "12345678901" not in unanswered and unanswered.endswith("01, ¿qué hago?")
    assert "1234 5678" not in feedback and feedback.endswith("78")


def test_an_expired_or_unpublished_article_is_not_answered_before_the_next_rebuild(
    tmp_path, monkeypatch
) -> None:
    """The live index still holds them (built before the article expired, or an unpublish
    whose rebuild failed): the bot answers with the next article, or says it does not know."""
    import sqlite3
    from datetime import date, timedelta

    from core import db
    from core.settings import Settings
    from knowledge_base.answers import Answers
    from knowledge_base.search import Document
    from knowledge_base.search.index import Hit

    settings = Settings(_env_file=None, var_dir=tmp_path, kb_min_confidence=0.5)
    assert settings.database_url
    db.migrate(settings.database_url)
    with sqlite3.connect(tmp_path / "ventanilla.db") as connection:
        # "vigente" is being edited (in review) with its published revision still live;
        # "retirado" was unpublished: no live revision.
        for article_id, status, live in (
            ("vigente", "in_review", 7),
            ("retirado", "unpublished", None),
        ):
            connection.execute(
                "INSERT INTO kb_articles (id, campaign, status, live_revision_id, created_at, "
                "updated_at) VALUES (?, 'derechohabiente', ?, ?, '2026-01-01', '2026-01-01')",
                (article_id, status, live),
            )
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    documents = {
        "vencido": Document("vencido", "Vencido", "", valid_until=yesterday),
        "retirado": Document("retirado", "Retirado", ""),
        "vigente": Document("vigente", "Vigente", "", valid_until="2999-12-31"),
    }

    class Index:
        def __init__(self) -> None:
            self.order = ["vencido", "retirado", "vigente"]

        def search(self, question: str, k: int, boost_campaign: str | None) -> list[Hit]:
            return [Hit(i, i, 0, 0, 0, None, 0.9 - n * 0.1, 0.5) for n, i in enumerate(self.order)]

        def get(self, doc_id: str) -> Document | None:
            return documents.get(doc_id)

        def plausible(self, hit: Hit) -> bool:
            return True

    answers = Answers(settings)
    index = Index()
    monkeypatch.setattr(answers, "index", lambda: index)
    monkeypatch.setattr(answers, "available", lambda: True)
    found, _ = answers.best("¿cómo hago mi trámite?")
    assert found is not None and found.document.id == "vigente"
    assert answers.article("vencido") is None and answers.article("retirado") is None
    assert answers.article("vigente") is not None
    index.order = ["vencido", "retirado"]
    assert answers.best("¿cómo hago mi trámite?") == (None, 0.0)
