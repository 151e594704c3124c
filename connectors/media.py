"""What the bot does with what is not text: photos, stickers, locations, documents, audio and
video that a messaging channel receives.

A channel hands such a message to the gateway as usual, with `inbound(kind)`: a text an agent
can read in the transcript ("(envió una foto)") and a payload that names the kind. In bot mode the
turn answers it with `reply(kind)` (what the bot can and cannot do with it) without asking Rasa;
in human mode the agent gets it like any message. A voice note also carries where to fetch it
(`InboundMessage.media`): with a speech-to-text service configured (`STT_URL`), its turn fetches
it through the channel (`download`), has it transcribed and goes on with the words as if typed,
the safety net first; otherwise, or when nothing was made out, the person is asked to write.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import httpx

from core.protocol import Reply

PAYLOAD_PREFIX = "/media:"


class Media(StrEnum):
    IMAGE = "imagen"
    STICKER = "sticker"
    LOCATION = "ubicacion"
    DOCUMENT = "documento"
    AUDIO = "audio"
    VIDEO = "video"
    CONTACT = "contacto"


# How the transcript shows it.
SENT = {
    Media.IMAGE: "(envió una imagen)",
    Media.STICKER: "(envió un sticker)",
    Media.LOCATION: "(envió una ubicación)",
    Media.DOCUMENT: "(envió un documento)",
    Media.AUDIO: "(envió un audio)",
    Media.VIDEO: "(envió un video)",
    Media.CONTACT: "(envió un contacto)",
}

_WRITE = "Escríbeme tu pregunta con palabras y con gusto te ayudo."
_PERSON = "Si necesitas entregar un documento, escribe «hablar con una persona»."
REPLIES = {
    Media.IMAGE: f"Recibí tu imagen, pero todavía no puedo ver imágenes. {_WRITE} {_PERSON}",
    Media.STICKER: f"¡Gracias por el sticker! {_WRITE}",
    Media.LOCATION: "Recibí tu ubicación, pero todavía no puedo usarla para buscar clínicas. "
    "Escríbeme tu pregunta (por ejemplo, «¿qué clínica me toca?») y te digo cómo averiguarlo.",
    Media.DOCUMENT: f"Recibí tu documento, pero todavía no puedo abrir archivos. {_WRITE} "
    f"{_PERSON}",
    Media.AUDIO: f"Todavía no puedo escuchar audios. {_WRITE} Si es una emergencia, llama al 911.",
    Media.VIDEO: f"Recibí tu video, pero todavía no puedo verlos. {_WRITE}",
    Media.CONTACT: f"Recibí el contacto, pero no guardo datos de contacto. {_WRITE}",
}


def inbound(kind: Media) -> tuple[str, str]:
    """(text, payload) of a message that carried `kind` instead of text."""
    return SENT[kind], f"{PAYLOAD_PREFIX}{kind.value}"


# A voice note the speech-to-text service could not make out (or could not be reached).
NOT_HEARD = (
    "No pude escuchar bien tu audio. ¿Me lo escribes con palabras? Si es una emergencia, "
    "llama al 911."
)


class MediaUnavailable(Exception):
    """A recording could not be fetched from its channel (gone, too large, provider failing)."""


async def download(
    client: httpx.AsyncClient, url: str, max_bytes: int, **request: Any
) -> tuple[bytes, str]:
    """GET a recording (following redirects), at most `max_bytes`; its bytes and content type.
    MediaUnavailable on an HTTP error, a network error or a larger file."""
    try:
        async with client.stream("GET", url, follow_redirects=True, **request) as response:
            if response.status_code != 200:
                raise MediaUnavailable(f"HTTP {response.status_code}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise MediaUnavailable(f"más de {max_bytes} bytes")
                chunks.append(chunk)
            kind = response.headers.get("content-type", "application/octet-stream")
            return b"".join(chunks), kind.split(";")[0].strip()
    except httpx.HTTPError as exc:
        raise MediaUnavailable(type(exc).__name__) from exc


def kind_of(payload: str | None) -> Media | None:
    """The kind a payload made by `inbound` names; None for any other payload."""
    if payload is None or not payload.startswith(PAYLOAD_PREFIX):
        return None
    try:
        return Media(payload.removeprefix(PAYLOAD_PREFIX))
    except ValueError:
        return None


def reply(kind: Media) -> Reply:
    return {"text": REPLIES[kind], "buttons": []}
