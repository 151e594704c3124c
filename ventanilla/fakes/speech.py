"""A fake speech-to-text service with the OpenAI-compatible `POST /v1/audio/transcriptions`
(multipart: `file`, `model`, `language`), for `connectors.speech.WhisperApi` on loopback.

A recording is "transcribed" by looking its bytes up in what `hear(audio, words)` registered;
unknown audio gives `{"text": ""}` (nothing made out). `fail_next(status)` makes the next calls
fail. Each request is kept (`requests`) with its form fields and the file's name and type.
"""

from __future__ import annotations

import threading
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def _form(content_type: str, body: bytes) -> dict[str, Any]:
    """A multipart/form-data body's fields: text as str, files as (name, type, bytes)."""
    parsed = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, Any] = {}
    for part in parsed.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        if filename is None:
            fields[str(name)] = data.decode()
        else:
            fields[str(name)] = (filename, part.get_content_type(), data)
    return fields


class FakeSpeechApi:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._words: dict[bytes, str] = {}
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self.app = FastAPI()
        self.app.post("/v1/audio/transcriptions")(self._transcribe)

    def hear(self, audio: bytes, words: str) -> None:
        self._words[audio] = words

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    async def _transcribe(self, request: Request) -> JSONResponse:
        fields = _form(request.headers.get("content-type", ""), await request.body())
        with self._lock:
            self.requests.append(fields)
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return JSONResponse({"error": {"message": "fallo"}}, status_code=failure)
        upload = fields.get("file")
        if not isinstance(upload, tuple) or "model" not in fields:
            return JSONResponse({"error": {"message": "file and model required"}}, 400)
        return JSONResponse({"text": self._words.get(upload[2], "")})
