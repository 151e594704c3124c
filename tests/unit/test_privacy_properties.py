"""The personal-data masker (core/privacy.py) over generated identifiers inside surrounding text
(hypothesis): NSS, CURP, RFC, Mexican phone numbers in their usual spellings and e-mail
addresses never come out whole, wherever they stand; ordinary text with small numbers comes out
as it went in."""

from __future__ import annotations

import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from core.privacy import mask_text

DIGIT = st.sampled_from(string.digits)
UPPER = st.sampled_from(string.ascii_uppercase)
WORDS = st.lists(
    st.sampled_from(
        [
            "mi",
            "es",
            "el",
            "número",
            "hola",
            "quiero",
            "mi hijo",
            "¿cuál",
            "clínica",
            "gracias",
            "señora",
            "teléfono",
            "cita",
            "NSS",
            "CURP",
            "RFC",
            "correo",
            "y",
            "no",
            "sí",
        ]
    ),
    max_size=6,
).map(" ".join)
# How an identifier meets the words around it.
SEPARATORS = st.sampled_from([" ", ": ", ", ", "\n", " (", ") ", "¿", "? ", " #", "="])


def joined(parts: st.SearchStrategy[list[str]]) -> st.SearchStrategy[str]:
    return parts.map("".join)


NSS = joined(st.lists(DIGIT, min_size=11, max_size=11))
CURP = st.tuples(
    joined(st.lists(UPPER, min_size=4, max_size=4)),
    joined(st.lists(DIGIT, min_size=6, max_size=6)),
    st.sampled_from("HMX"),
    joined(st.lists(UPPER, min_size=5, max_size=5)),
    st.one_of(UPPER, DIGIT),
    DIGIT,
).map("".join)
RFC = st.tuples(
    joined(st.lists(UPPER, min_size=3, max_size=4)),
    joined(st.lists(DIGIT, min_size=6, max_size=6)),
    joined(st.lists(st.one_of(UPPER, DIGIT), min_size=3, max_size=3)),
).map("".join)


@st.composite
def phones(draw: st.DrawFn) -> str:
    """A 10-digit Mexican number as people write it."""
    d = draw(joined(st.lists(DIGIT, min_size=10, max_size=10)))
    spelling = draw(
        st.sampled_from(
            ["{a}{b}{c}", "{a} {b} {c}", "({a}) {b} {c}", "{a}-{b}-{c}", "+52 {a} {b} {c}",
             "+52 1 {a} {b}-{c}", "{a}.{b}.{c}", "+52{a}{b}{c}", "({a}){b}-{c}"]
        )
    )  # fmt: skip
    return spelling.format(a=d[:2], b=d[2:6], c=d[6:])


EMAIL = st.tuples(
    st.text(string.ascii_lowercase + "._", min_size=2, max_size=12).filter(
        lambda s: s[0] not in "._" and s[-1] not in "._"
    ),
    st.sampled_from(["imss.gob.mx", "gmail.com", "hotmail.com", "correo.example.org"]),
).map(lambda parts: f"{parts[0]}@{parts[1]}")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@settings(max_examples=300)
@given(WORDS, SEPARATORS, st.one_of(NSS, phones()), SEPARATORS, WORDS, st.booleans())
def test_nss_and_phone_numbers_are_masked_wherever_they_stand(
    before: str, left: str, number: str, right: str, after: str, glued: bool
) -> None:
    # "NSS12345678901": glued to the word before it, as people type it.
    text = f"{before}{'' if glued else left}{number}{right}{after}"
    masked = mask_text(text)
    assert digits(number)[:8] not in digits(masked)
    assert len(digits(masked)) <= 2  # the last two are kept, for the agent to tell them apart


@settings(max_examples=300)
@given(WORDS, SEPARATORS, st.one_of(CURP, RFC), SEPARATORS, WORDS, st.booleans())
def test_curp_and_rfc_are_masked_in_either_case(
    before: str, left: str, identifier: str, right: str, after: str, lower: bool
) -> None:
    written = identifier.lower() if lower else identifier
    masked = mask_text(f"{before}{left}{written}{right}{after}")
    assert identifier[1:].casefold() not in masked.casefold()
    assert digits(identifier) not in digits(masked) or not digits(identifier)


@settings(max_examples=200)
@given(WORDS, SEPARATORS, EMAIL, SEPARATORS, WORDS)
def test_email_addresses_are_masked(
    before: str, left: str, address: str, right: str, after: str
) -> None:
    masked = mask_text(f"{before}{left}{address}{right}{after}")
    domain = address.split("@")[1]
    assert address not in masked and f"@{domain}" not in masked


@settings(max_examples=200)
@given(
    st.lists(
        st.one_of(
            WORDS.filter(bool),
            st.integers(0, 9999).map(str),
            st.sampled_from(["12/03/2026", "10:30", "3 hijos", "2 semanas", "38.5 °C"]),
        ),
        max_size=8,
    ).map(" y ".join)
)
def test_text_without_identifiers_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


async def test_a_failing_statement_does_not_carry_its_values(tmp_path: object) -> None:
    """SQLAlchemy puts a failing statement's parameters in its error (and so in logs) unless
    told not to: the engines hide them."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from core import db

    engine = db.create_engine(f"sqlite:///{tmp_path}/privado.db")
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as failure:
                await connection.execute(
                    text("INSERT INTO nada VALUES (:nss)"), {"nss": "12345678901"}
                )
    finally:
        await engine.dispose()
    assert "12345678901" not in str(failure.value)
    assert "hidden" in str(failure.value)  # SQLAlchemy says the parameters were left out


def test_a_web_chat_session_is_never_shown_to_staff_even_revealed() -> None:
    from core.privacy import sender_for_staff

    session = "3f9c2a71-6b0e-4d8a-9f15-0c2b7e4d1a90"
    shown = {sender_for_staff("webchat", session, reveal) for reveal in (False, True)}
    assert len(shown) == 1 and shown.pop().startswith("web-")
    assert session[:4] not in sender_for_staff("webchat", session)  # no part of the secret
    assert sender_for_staff("whatsapp", "whatsapp:+5215511112222") == "••••••2222"
    assert sender_for_staff("whatsapp", "whatsapp:+5215511112222", reveal=True).endswith("2222")
