"""Masking of personal data shown to staff or written to logs: senders (phone numbers) and
identifiers inside texts.

Agents see what they need to help: identifiers are masked in transcripts unless they reveal them,
which is audited. NSS: 11 digits; CURP: 18 characters; phone numbers: 10 digits (with or without
+52 and separators); e-mail addresses. Used by the agents' and supervisors' APIs (router.py,
supervision.py).
"""

from __future__ import annotations

import re
from typing import Any

CURP = re.compile(r"\b[A-Z]{4}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d\b", re.IGNORECASE)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
# Runs of 10+ digits, possibly split by spaces, dots or dashes (phones, NSS, card numbers).
DIGITS = re.compile(r"(?<![\w])\+?\d(?:[\s.-]?\d){9,}(?![\w])")


def _keep_last(value: str, keep: int = 2) -> str:
    digits = re.sub(r"\D", "", value)
    return "•" * max(len(digits) - keep, 4) + digits[-keep:]


def mask_text(text: str) -> str:
    """The text with CURPs, e-mail addresses and long digit runs masked (last 2 digits kept)."""
    text = CURP.sub(lambda m: m.group(0)[:1] + "•" * 17, text)
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
