"""A fake of Meta's Send API (`POST /<version>/me/messages?access_token=…`), for the channel's
HTTP client on loopback. `fail_next(status, code, message)` makes the next sends fail with the
Graph API's error body. `add_attachment` serves a file as Meta's CDN does (the URL an attachment's
payload carries, no token)."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


class FakeGraphApi:
    def __init__(self, page_token: str) -> None:
        self.page_token = page_token
        self.sent_messages: list[dict[str, Any]] = []
        self._failures: list[tuple[int, int, str]] = []
        self._lock = threading.Lock()
        self.app = FastAPI()
        self.attachments: dict[str, tuple[bytes, str]] = {}  # name → (content, content type)
        self.app.post("/{version}/me/messages")(self._send)
        self.app.get("/cdn/{name}")(self._attachment)

    def add_attachment(self, base_url: str, name: str, content: bytes, kind: str) -> str:
        """A file a person sent; the URL its attachment's payload carries."""
        self.attachments[name] = (content, kind)
        return f"{base_url}/cdn/{name}"

    async def _attachment(self, name: str, request: Request) -> Response:
        if name not in self.attachments or "access_token" in request.query_params:
            return Response(status_code=404)
        content, kind = self.attachments[name]
        return Response(content, media_type=kind)

    def fail_next(self, status: int, code: int, message: str, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, code, message)] * times)

    def sent(self, recipient: str | None = None) -> list[dict[str, Any]]:
        """The `message` objects sent (to one recipient), in order."""
        with self._lock:
            return [
                body["message"]
                for body in self.sent_messages
                if recipient is None or body["recipient"]["id"] == recipient
            ]

    def wait_for(self, count: int, recipient: str | None = None, timeout: float = 20) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent(recipient)
            if len(sent) >= count:
                return sent
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages, got {self.sent(recipient)}")

    async def _send(self, version: str, request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != self.page_token:
            return JSONResponse(
                {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException",
                           "code": 190}},
                status_code=401,
            )  # fmt: skip
        body = await request.json()
        with self._lock:
            self.sent_messages.append(body)
            failure = self._failures.pop(0) if self._failures else None
            number = len(self.sent_messages)
        if failure is not None:
            status, code, message = failure
            return JSONResponse(
                {"error": {"message": message, "type": "OAuthException", "code": code}},
                status_code=status,
            )
        return JSONResponse({"recipient_id": body["recipient"]["id"], "message_id": f"m_{number}"})
