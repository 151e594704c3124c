"""Canned responses per campaign (handoff/canned_responses.yml), with their short codes.

The desk expands `/codigo` in an agent's reply (desk.py); the agents' API lists them (router.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

FILE = Path(__file__).resolve().parent / "canned_responses.yml"
COMMON = "todas"


def load(path: Path = FILE) -> dict[str, dict[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): {str(c): str(t) for c, t in (v or {}).items()} for k, v in data.items()}


def for_campaign(campaign: str, path: Path = FILE) -> dict[str, str]:
    data = load(path)
    return {**data.get(COMMON, {}), **data.get(campaign, {})}


def canned_for(campaigns: Iterable[str], path: Path = FILE) -> list[dict[str, str]]:
    """[{code, campaign, text}] for the given campaigns plus the common ones."""
    data = load(path)
    wanted = [COMMON, *campaigns]
    return [
        {"code": code, "campaign": campaign, "text": text}
        for campaign in wanted
        for code, text in data.get(campaign, {}).items()
    ]


def expand(campaign: str, text: str, path: Path = FILE) -> str:
    """`/codigo` alone becomes that response; anything else is sent as written."""
    stripped = text.strip()
    if not stripped.startswith("/") or " " in stripped:
        return text
    return for_campaign(campaign, path).get(stripped[1:].lower(), text)
