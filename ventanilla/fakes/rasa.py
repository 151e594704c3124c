"""A fake Rasa at the HTTP layer (`POST /webhooks/rest/webhook`): where a channel's logic, not
the bot's, is under test. It records what it was sent and answers by rule:

* "botones" → a message with two buttons (one payload longer than Telegram's 64 bytes);
* "largo" → a text of 9,000 characters in words and lines;
* a payload ("/…") → "Elegiste /…";
* anything else → "Recibí: <text>".
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI, Request

LONG_PAYLOAD = '/kb_pick{"kb_article":"pension-por-cesantia-en-edad-avanzada-y-vejez-ley-73"}'


def long_text() -> str:
    line = "La vigencia de derechos se consulta en línea con tu CURP y tu NSS. "
    lines = [f"{n}. {line * 3}" for n in range(1, 200)]
    return "\n".join(lines)[:9000]


class FakeRasa:
    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []  # (sender, message)
        self._lock = threading.Lock()
        self.app = FastAPI()
        self.app.post("/webhooks/rest/webhook")(self._webhook)

    def messages(self) -> list[str]:
        with self._lock:
            return [message for _, message in self.received]

    async def _webhook(self, request: Request) -> list[dict[str, Any]]:
        body = await request.json()
        sender, message = body["sender"], body["message"]
        with self._lock:
            self.received.append((sender, message))
        if message == "botones":
            return [
                {
                    "recipient_id": sender,
                    "text": "¿Te refieres a A o a B?",
                    "buttons": [
                        {"title": "Sí", "payload": "/affirm"},
                        {"title": "Pensión por cesantía", "payload": LONG_PAYLOAD},
                    ],
                }
            ]
        if message == "largo":
            return [{"recipient_id": sender, "text": long_text()}]
        if message.startswith("/"):
            return [{"recipient_id": sender, "text": f"Elegiste {message}"}]
        return [{"recipient_id": sender, "text": f"Recibí: {message}"}]
