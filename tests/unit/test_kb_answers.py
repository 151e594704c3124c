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
