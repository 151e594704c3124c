"""The channel port's helpers: reading a numbered answer back, and sending a message in parts."""

from __future__ import annotations

import pytest

from connectors.channel import DeliveryError, choose, send_parts
from core.conversations import Message

YES_NO = [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
# A rating whose options are numbers, listed from best to worst.
RATING = [{"title": str(n), "payload": f'/csat{{"score":{n}}}'} for n in (5, 4, 3, 2, 1)]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("2", "/deny"), ("#1", "/affirm"), (" no ", "/deny"), ("SÍ", "/affirm"), ("si", "/affirm")],
)
def test_a_number_or_the_words_pick_an_option(answer: str, expected: str) -> None:
    chosen = choose(answer, YES_NO)
    assert chosen is not None and chosen["payload"] == expected


@pytest.mark.parametrize("answer", ["3", "0", "tal vez", ""])
def test_an_answer_that_picks_nothing_is_none(answer: str) -> None:
    assert choose(answer, YES_NO) is None


def test_where_the_options_are_numbers_a_number_is_the_option_not_its_place() -> None:
    chosen = choose("2", RATING)
    assert chosen is not None and chosen["title"] == "2"  # not the second option, "4"
    chosen = choose("5.", RATING)
    assert chosen is not None and chosen["title"] == "5"


async def test_parts_an_earlier_attempt_sent_are_not_sent_again() -> None:
    sent: list[str] = []
    fail_at = {2}

    async def send_one(index: int, part: str) -> None:
        if index in fail_at:
            fail_at.discard(index)
            raise DeliveryError("503")
        sent.append(part)

    message = Message(text="x", parts_sent=0)
    parts = ["uno", "dos", "tres", "cuatro"]
    with pytest.raises(DeliveryError) as failure:
        await send_parts(message, parts, send_one)
    assert failure.value.parts_sent == 2 and sent == ["uno", "dos"]

    message.parts_sent = failure.value.parts_sent  # as the outbox keeps it for the retry
    await send_parts(message, parts, send_one)
    assert sent == parts
