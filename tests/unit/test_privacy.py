"""What staff and logs see of personal data: identifiers inside texts and senders, masked."""

from __future__ import annotations

import pytest

from core.privacy import mask_sender, mask_text


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("Mi NSS es 12345678901, gracias", "123456789", "•01, gracias"),
        ("CURP GODE561231HDFRRN09 por favor", "GODE561231", "G•"),
        ("llámame al +52 55 1234 5678", "1234 56", "78"),
        ("escribe a ana.lopez@example.org", "ana.lopez", "a•••@•••"),
        ("The 'To' number whatsapp:+5215512345678 is not valid", "551234567", "is not valid"),
    ],
)
def test_identifiers_inside_texts_are_masked(text: str, hidden: str, kept: str) -> None:
    masked = mask_text(text)
    assert hidden not in masked and kept in masked


def test_a_short_text_without_identifiers_is_left_alone() -> None:
    assert mask_text("Cita el 12 de mayo a las 10:30") == "Cita el 12 de mayo a las 10:30"


@pytest.mark.parametrize(
    ("sender", "shown"),
    [
        ("+52 55 1234 5678", "••••••5678"),
        ("whatsapp:+5215512345678", "••••••5678"),
        ("Fj3kLmN0pQrStUvWx", "Fj3k…UvWx"),
        ("u-17", "u-17"),
    ],
)
def test_senders_are_masked_to_their_ends(sender: str, shown: str) -> None:
    assert mask_sender(sender) == shown
