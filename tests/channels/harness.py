"""What the channel tests share: reading the gateway's database, waiting for a condition."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.settings import Settings
from ventanilla.launcher import free_port


def gateway_settings(tmp_path: Path, rasa_url: str, **channel: Any) -> Settings:
    """A gateway on `tmp_path` whose Rasa is `rasa_url` (a fake), fast delivery retries."""
    return Settings(
        _env_file=None,
        var_dir=tmp_path,
        rasa_url=rasa_url,
        action_port=free_port(),
        public_base_url="https://ventanilla.example.org",
        delivery_retry_seconds=0.05,
        **channel,
    )


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path

    def stored(self) -> list[tuple[str, str | None, str]]:
        """(author, payload, text) of every stored message, in order."""
        with sqlite3.connect(self.path) as db:
            return list(db.execute("SELECT author, payload, text FROM messages ORDER BY id"))

    def user_texts(self, sender: str) -> list[str]:
        """What a sender's messages said, in the order the gateway accepted them."""
        with sqlite3.connect(self.path) as db:
            return [
                text
                for (text,) in db.execute(
                    "SELECT m.text FROM messages m JOIN conversations c "
                    "ON c.id = m.conversation_id WHERE c.sender = ? AND m.author = 'user' "
                    "ORDER BY m.id",
                    (sender,),
                )
            ]

    def outbound(self) -> list[tuple[int, str, str | None, str]]:
        """(id, status, error, text) of every message to a person, in order."""
        with sqlite3.connect(self.path) as db:
            return list(
                db.execute(
                    "SELECT id, status, error, text FROM messages WHERE author != 'user' "
                    "ORDER BY id"
                )
            )

    def first_outbound_status(self) -> str | None:
        rows = self.outbound()
        return rows[0][1] if rows else None


def wait_until(check: Callable[[], Any], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")
