"""A fake of Twilio's Messages API (`POST /2010-04-01/Accounts/<sid>/Messages.json`, HTTP basic
auth with the account SID and auth token), for the `twilio` library to talk to on loopback.

`fail_next(status, code, message)` makes the next sends fail with Twilio's error body (`after=n`:
once n more have gone through). `add_media` serves a recording at the URL Twilio puts in
`MediaUrl0`, behind the same basic auth.
"""

from __future__ import annotations

import base64
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


class FakeTwilioApi:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, str]] = []
        self._failures: list[tuple[int, int, str] | None] = []  # None: this one goes through
        self._lock = threading.Lock()
        self.app = FastAPI()
        self.media: dict[str, tuple[bytes, str]] = {}  # media sid → (content, content type)
        self.media_requests: list[str | None] = []  # the Authorization header of each GET
        self.app.post("/2010-04-01/Accounts/{sid}/Messages.json")(self._create)
        self.app.get("/2010-04-01/Accounts/{sid}/Messages/{message_sid}/Media/{media_sid}")(
            self._media
        )

    def add_media(self, base_url: str, message_sid: str, content: bytes, kind: str) -> str:
        """A recording a person sent; the MediaUrl0 Twilio would post for it."""
        media_sid = f"ME{len(self.media):032d}"
        self.media[media_sid] = (content, kind)
        return (
            f"{base_url}/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}"
            f"/Media/{media_sid}"
        )

    def _authorized(self, sid: str, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return sid == self.account_sid and request.headers.get("authorization") == (
            f"Basic {expected}"
        )

    async def _media(self, sid: str, message_sid: str, media_sid: str, request: Request) -> Any:
        self.media_requests.append(request.headers.get("authorization"))
        if not self._authorized(sid, request):
            return JSONResponse({"code": 20003, "message": "Authenticate"}, status_code=401)
        if media_sid not in self.media:
            return JSONResponse({"code": 20404, "message": "Not Found"}, status_code=404)
        content, kind = self.media[media_sid]
        return Response(content, media_type=kind)

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
        if not self._authorized(sid, request):
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
