"""A fake of Telegram's Bot API (`POST /bot<token>/<method>`), for `python-telegram-bot` to talk
to on loopback: it records every call and answers as the Bot API does (`{"ok": true, "result":
…}`, or `{"ok": false, "error_code", "description"}`).

Only what the channel uses: getMe, sendMessage, sendChatAction, answerCallbackQuery, setWebhook,
and getFile with the file download (`GET /file/bot<token>/<file_path>`) for files added with
`add_file`. `fail_next(status, description)` makes the next sendMessage calls fail that way.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


def _decode(value: str) -> Any:
    """PTB sends non-string parameters JSON-encoded in a form field."""
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeTelegramApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self._failures: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._next_message_id = 1
        self.app = FastAPI()
        self.files: dict[str, bytes] = {}  # file_id → content
        self.app.post("/bot{token}/{method}")(self._call)
        self.app.get("/file/bot{token}/{file_path:path}")(self._download)

    def add_file(self, file_id: str, content: bytes) -> None:
        """A file a person sent (a voice note), for getFile and its download."""
        self.files[file_id] = content

    async def _download(self, token: str, file_path: str) -> Response:
        file_id = file_path.removeprefix("voice/").removesuffix(".oga")
        if token != self.token or file_id not in self.files:
            return Response(status_code=404)
        return Response(self.files[file_id], media_type="application/octet-stream")

    def fail_next(self, status: int, description: str, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, description)] * times)

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The sendMessage calls (for one chat), in order."""
        with self._lock:
            return [
                c.params
                for c in self.calls
                if c.method == "sendMessage" and (chat_id is None or c.params["chat_id"] == chat_id)
            ]

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    def wait_for(self, count: int, chat_id: int | None = None, timeout: float = 20) -> list[Any]:
        """At least `count` messages sent (to a chat), waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent(chat_id)
            if len(sent) >= count:
                return sent
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages, got {self.sent(chat_id)}")

    async def _call(self, token: str, method: str, request: Request) -> JSONResponse:
        if token != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        if request.headers.get("content-type", "").startswith("application/json"):
            params = await request.json()
        else:
            form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
            params = {k: _decode(v) for k, v in form}
        with self._lock:
            self.calls.append(Call(method, params))
            failure = self._failures.pop(0) if method == "sendMessage" and self._failures else None
            message_id = self._next_message_id
            self._next_message_id += 1
        if method == "getFile" and params.get("file_id") not in self.files:
            failure = (400, "Bad Request: invalid file_id")
        if failure is not None:
            status, description = failure
            return JSONResponse(
                {"ok": False, "error_code": status, "description": description},
                status_code=status,
            )
        return JSONResponse({"ok": True, "result": self._result(method, params, message_id)})

    def _result(self, method: str, params: dict[str, Any], message_id: int) -> Any:
        if method == "getMe":
            return {"id": 42, "is_bot": True, "first_name": "Ventanilla", "username": "vent_bot"}
        if method == "sendMessage":
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": params["chat_id"], "type": "private"},
                "text": params["text"],
            }
        if method == "getFile":
            file_id = params["file_id"]
            return {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"voice/{file_id}.oga",
            }
        return True  # sendChatAction, answerCallbackQuery, setWebhook
