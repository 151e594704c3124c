"""A fake of Twilio's Messages API (`POST /2010-04-01/Accounts/<sid>/Messages.json`, HTTP basic
auth with the account SID and auth token), for the `twilio` library to talk to on loopback.

`fail_next(status, code, message)` makes the next sends fail with Twilio's error body (`after=n`:
once n more have gone through).
"""

from __future__ import annotations

import base64
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class FakeTwilioApi:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, str]] = []
        self._failures: list[tuple[int, int, str] | None] = []  # None: this one goes through
        self._lock = threading.Lock()
        self.app = FastAPI()
        self.app.post("/2010-04-01/Accounts/{sid}/Messages.json")(self._create)

    def fail_next(
        self, status: int, code: int, message: str, times: int = 1, after: int = 0
    ) -> None:
        with self._lock:
            self._failures.extend([None] * after + [(status, code, message)] * times)

    def sent(self, to: str | None = None) -> list[dict[str, str]]:
        with self._lock:
            return [m for m in self.messages if to is None or m["To"] == to]

    def wait_for(self, count: int, to: str | None = None, timeout: float = 20) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent(to)
            if len(sent) >= count:
                return sent
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages, got {self.sent(to)}")

    async def _create(self, sid: str, request: Request) -> JSONResponse:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if sid != self.account_sid or request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse(
                {"code": 20003, "message": "Authenticate", "status": 401}, status_code=401
            )
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        with self._lock:
            self.messages.append(params)
            failure = self._failures.pop(0) if self._failures else None
            number = len(self.messages)
        if failure is not None:
            status, code, message = failure
            return JSONResponse(
                {"code": code, "message": message, "status": status}, status_code=status
            )
        return JSONResponse(
            {
                "sid": f"SM{number:032d}",
                "account_sid": sid,
                "to": params.get("To"),
                "from": params.get("From"),
                "body": params.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
            },
            status_code=201,
        )
