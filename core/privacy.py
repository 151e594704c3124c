"""Masking of personal data shown to staff or written to logs: senders (phone numbers) and
identifiers inside texts.

Agents see what they need to help: identifiers are masked in transcripts unless they reveal them,
which is audited. NSS: 11 digits; CURP: 18 characters; RFC: 12 or 13; phone numbers: 10 digits
(with or without +52, separators and parentheses); e-mail addresses. Used by the agents' and
supervisors' APIs (router.py, supervision.py), the outbox's failure reasons, and before people's
questions are stored for the knowledge editors (knowledge_base/answers.py).
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

# Identifiers are found also when glued to a word ("NSS12345678901", "curp:ABCD…").
CURP = re.compile(r"(?<![A-Z0-9])[A-Z]{4}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d(?![A-Z0-9])", re.IGNORECASE)
# RFC: 4 letters (persons) or 3 (companies), the date, a 3-character homoclave.
RFC = re.compile(r"(?<![A-Z0-9Ñ&])[A-ZÑ&]{3,4}\d{6}[A-Z0-9]{3}(?![A-Z0-9])", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Runs of 10+ digits, possibly split by spaces, dots, dashes or parentheses (phones in their
# usual spellings: "(55) 1234 5678", "+52 1 55 1234-5678"; NSS; card numbers).
DIGITS = re.compile(r"\+?\(?(?<!\d)\d(?:[\s.()-]{0,3}\d){9,}(?!\d)")


def _keep_last(value: str, keep: int = 2) -> str:
    digits = re.sub(r"\D", "", value)
    return "•" * max(len(digits) - keep, 4) + digits[-keep:]


def mask_text(text: str) -> str:
    """The text with CURPs, e-mail addresses and long digit runs masked (last 2 digits kept)."""
    text = CURP.sub(lambda m: m.group(0)[:1] + "•" * 17, text)
    text = RFC.sub(lambda m: m.group(0)[:1] + "•" * (len(m.group(0)) - 1), text)
    text = EMAIL.sub(lambda m: m.group(0)[:1] + "•••@•••", text)
    return DIGITS.sub(lambda m: _keep_last(m.group(0)), text)


def mask_values(value: Any) -> Any:
    """A JSON-like value (a handoff's context, a triage assessment's answers) with identifiers
    inside its strings masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_values(v) for v in value]
    return value


PHONE_SENDER = re.compile(r"^(?:[a-z]+:)?\+?[\d\s().-]{8,}$")


def mask_sender(sender: str) -> str:
    """A sender as staff see it: a phone number (WhatsApp, SMS, voice) reduced to its last 4
    digits; another long id (web chat session, integrator's id) cut to its ends."""
    if PHONE_SENDER.match(sender):
        return "•" * 6 + re.sub(r"\D", "", sender)[-4:]
    if len(sender) > 12:
        return sender[:4] + "…" + sender[-4:]
    return sender


# Channels whose sender id is the person's session secret (the web chat's): whoever holds it can
# open the conversation and write as that person. Staff never see it, revealed or not: they see
# an opaque label that tells conversations apart.
SECRET_SENDER_CHANNELS = frozenset({"webchat"})


def sender_for_staff(channel: str, sender: str, reveal: bool = False) -> str:
    """How a conversation's sender is shown to staff: masked (or, revealed and audited, whole);
    a session secret never, only its opaque label."""
    if channel in SECRET_SENDER_CHANNELS:
        return "web-" + hashlib.sha256(sender.encode()).hexdigest()[:10]
    return sender if reveal else mask_sender(sender)


class MaskingFilter(logging.Filter):
    """Masks personal data in a logger's records (e.g. `httpx`'s request lines, whose query
    strings may hold an NSS and a CURP), before any handler writes them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.getMessage())
        record.args = None
        return True
