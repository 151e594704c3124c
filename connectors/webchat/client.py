"""A web chat client speaking the widget's protocol (tests, benchmarks, smoke checks)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from websockets.sync.client import ClientConnection, connect


class ChatClient:
    def __init__(self, ws_url: str, session: str | None = None, timeout: float = 60):
        self.timeout = timeout
        self.ws: ClientConnection = connect(ws_url, open_timeout=timeout, max_size=2**22)
        self.send_frame({"type": "hello", "session": session})
        self.hello = self.receive()
        assert self.hello["type"] == "session", self.hello
        self.session: str = self.hello["session"]

    def send_frame(self, frame: dict[str, Any]) -> None:
        self.ws.send(json.dumps(frame))

    def receive(self) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=self.timeout))

    def turn(
        self, text: str, payload: str | None = None, client_id: str | None = None
    ) -> list[dict]:
        """Send one message; every frame until the bot is done (typing off) or an error."""
        self.send_frame(
            {
                "type": "message",
                "text": text,
                "payload": payload,
                "client_id": client_id or uuid.uuid4().hex,
            }
        )
        return self.collect()

    def collect(self) -> list[dict[str, Any]]:
        frames = []
        while True:
            frame = self.receive()
            frames.append(frame)
            if frame["type"] == "error" or (frame["type"] == "typing" and not frame["on"]):
                return frames
            if frame["type"] == "ack" and frame.get("duplicate"):
                return frames

    def close(self) -> None:
        self.ws.close()


def bot_texts(frames: list[dict[str, Any]]) -> list[str]:
    return [f["text"] for f in frames if f["type"] == "message" and f["from"] == "bot"]


def bot_buttons(frames: list[dict[str, Any]]) -> list[dict[str, str]]:
    buttons: list[dict[str, str]] = []
    for frame in frames:
        if frame["type"] == "message" and frame["from"] == "bot":
            buttons.extend(frame["buttons"])
    return buttons
