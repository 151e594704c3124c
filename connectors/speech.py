"""Speech-to-text over HTTP: the `core.ports.SpeechToText` the gateway uses when `STT_URL` is set.

It speaks the OpenAI-compatible `POST {STT_URL}/v1/audio/transcriptions` (multipart: `file`,
`model`, `language=es`; answer `{"text": …}`), which local Whisper servers implement
(faster-whisper-server / Speaches, whisper.cpp's server with `--inference-path`, LocalAI, vLLM).
Nothing is downloaded at run time: the model lives with that service, configured by its operator.
Recordings are personal data: neither they nor their words are logged here.
"""

from __future__ import annotations

import httpx

from core.ports import SpeechUnavailable
from core.settings import Settings

# A file name per content type: some servers read the format from the name.
_SUFFIX = {
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/webm": "webm",
    "video/mp4": "mp4",
}


class WhisperApi:
    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._endpoint = f"{url.rstrip('/')}/v1/audio/transcriptions"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=5.0))

    async def transcribe(self, audio: bytes, content_type: str) -> str:
        name = f"audio.{_SUFFIX.get(content_type, 'ogg')}"
        try:
            response = await self._client.post(
                self._endpoint,
                headers=self._headers,
                files={"file": (name, audio, content_type)},
                data={"model": self._model, "language": "es", "response_format": "json"},
            )
        except httpx.HTTPError as exc:
            raise SpeechUnavailable(f"no respondió: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise SpeechUnavailable(f"respondió {response.status_code}")
        try:
            text = response.json()["text"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SpeechUnavailable("respuesta sin «text»") from exc
        return " ".join(str(text).split())

    async def aclose(self) -> None:
        await self._client.aclose()


def build_speech(settings: Settings) -> WhisperApi | None:
    """The configured speech-to-text service; None without `STT_URL`."""
    if settings.stt_url is None:
        return None
    key = settings.stt_api_key.get_secret_value() if settings.stt_api_key else None
    return WhisperApi(settings.stt_url, settings.stt_model, key)
