"""Web chat: the widget's files and its WebSocket transport (protocol: webchat/README.md).

A session id is the web chat's sender: issued by the server at the first `hello`, kept by the
browser, presented again after a reload or a dropped connection to get the history back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse

from connectors.deps import GatewayDep, SettingsDep
from connectors.gateway import Gateway, InboundMessage, InvalidMessage
from connectors.rasa_client import BotUnavailable
from connectors.store import Conversation, Message

log = logging.getLogger(__name__)

router = APIRouter(tags=["webchat"])

CHANNEL = "webchat"
STATIC = Path(__file__).resolve().parent / "static"
MAX_FRAME_BYTES = 64 * 1024

ERRORS = {
    "invalid_json": "No pude leer ese mensaje. Intenta enviarlo de nuevo.",
    "invalid_encoding": "Tu mensaje tiene caracteres no válidos. Escríbelo de nuevo.",
    "no_session": "La conexión no está lista todavía. Espera un momento e inténtalo de nuevo.",
    "unknown_type": "No reconozco ese tipo de mensaje.",
    "frame_too_large": "Tu mensaje es demasiado largo.",
    "bot_unavailable": "El asistente no está disponible en este momento. Tu mensaje quedó "
    "guardado; intenta de nuevo en unos minutos.",
}
UNKNOWN_SESSION_NOTICE = "No encontramos tu conversación anterior; empezamos una nueva."


@router.get("/", include_in_schema=False)
async def home() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/privacidad", include_in_schema=False)
async def privacy_notice() -> FileResponse:
    return FileResponse(STATIC / "privacidad.html", media_type="text/html")


@router.get("/webchat/widget.js", include_in_schema=False)
async def widget() -> FileResponse:
    return FileResponse(
        STATIC / "widget.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
    )


class Hub:
    """The open sockets of each web chat session (a person may have several tabs open)."""

    def __init__(self) -> None:
        self._sockets: dict[str, set[WebSocket]] = {}

    def join(self, session: str, socket: WebSocket) -> None:
        self._sockets.setdefault(session, set()).add(socket)

    def leave(self, session: str, socket: WebSocket) -> bool:
        """Forget a socket; True when it was the session's last one (the person left)."""
        sockets = self._sockets.get(session)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[session]
                return True
        return False

    async def send(self, socket: WebSocket, frame: dict[str, Any]) -> None:
        # A socket that is gone is skipped: the history is stored and comes back at the next hello.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await socket.send_json(frame)

    async def broadcast(
        self, session: str, frame: dict[str, Any], exclude: WebSocket | None = None
    ) -> None:
        for socket in list(self._sockets.get(session, ())):
            if socket is not exclude:
                await self.send(socket, frame)


def message_frame(message: Message) -> dict[str, Any]:
    return {"type": "message", **message.as_dict()}


def error_frame(code: str, message: str | None = None, client_id: str | None = None) -> dict:
    return {
        "type": "error",
        "code": code,
        "message": message or ERRORS[code],
        "client_id": client_id,
    }


def ack_frame(client_id: str | None, message_id: int, duplicate: bool) -> dict[str, Any]:
    return {"type": "ack", "client_id": client_id, "id": message_id, "duplicate": duplicate}


class WebchatConnection:
    """One socket's conversation with the server."""

    def __init__(self, socket: WebSocket, gateway: Gateway, hub: Hub):
        self.socket = socket
        self.gateway = gateway
        self.hub = hub
        self.session: str | None = None

    async def reply(self, frame: dict[str, Any]) -> None:
        await self.hub.send(self.socket, frame)

    async def on_frame(self, raw: dict[str, Any]) -> None:
        if raw.get("bytes") is not None:
            if len(raw["bytes"]) > MAX_FRAME_BYTES:
                await self.reply(error_frame("frame_too_large"))
                return
            try:
                text = raw["bytes"].decode("utf-8")
            except UnicodeDecodeError:
                await self.reply(error_frame("invalid_encoding"))
                return
        else:
            text = raw.get("text") or ""
        if len(text) > MAX_FRAME_BYTES:
            await self.reply(error_frame("frame_too_large"))
            return
        try:
            data = json.loads(text)
        except ValueError:
            await self.reply(error_frame("invalid_json"))
            return
        if not isinstance(data, dict):
            await self.reply(error_frame("invalid_json"))
            return
        kind = data.get("type")
        if kind == "hello":
            await self.on_hello(data.get("session"))
        elif kind == "message":
            await self.on_message(data)
        else:
            await self.reply(error_frame("unknown_type"))

    async def on_hello(self, requested: Any) -> None:
        notice = None
        history: list[Message] | None = None
        if isinstance(requested, str) and requested:
            history = await self.gateway.conversation_history(CHANNEL, requested)
            if history is None:
                notice = UNKNOWN_SESSION_NOTICE
        restored = history is not None
        if not restored:
            requested = secrets.token_urlsafe(24)
            await self.gateway.open_conversation(CHANNEL, requested)
        if self.session is not None:
            self.hub.leave(self.session, self.socket)
        self.session = requested
        self.hub.join(requested, self.socket)
        if restored and self.gateway.handoff is not None:
            await self.gateway.handoff.user_returned(CHANNEL, requested)
        await self.reply(
            {
                "type": "session",
                "session": requested,
                "restored": restored,
                "history": [m.as_dict() for m in history or []],
                "notice": notice,
            }
        )

    async def on_message(self, data: dict[str, Any]) -> None:
        client_id = data.get("client_id") if isinstance(data.get("client_id"), str) else None
        if self.session is None:
            await self.reply(error_frame("no_session", client_id=client_id))
            return
        text, payload = data.get("text"), data.get("payload")
        if not isinstance(text, str) or (payload is not None and not isinstance(payload, str)):
            await self.reply(error_frame("invalid_json", client_id=client_id))
            return
        inbound = InboundMessage(
            channel=CHANNEL,
            sender=self.session,
            text=text,
            payload=payload or None,
            external_id=client_id[:255] if client_id else None,
        )
        # The turn runs on its own: a socket that drops mid-turn does not cancel it, and its
        # result is stored for the next hello.
        await asyncio.shield(self.gateway.spawn(self.run_turn(inbound)))

    async def run_turn(self, inbound: InboundMessage) -> None:
        session = inbound.sender

        async def accepted(_: Conversation, message: Message) -> None:
            await self.reply(ack_frame(inbound.external_id, message.id, duplicate=False))
            await self.hub.broadcast(session, message_frame(message), exclude=self.socket)
            await self.hub.broadcast(session, {"type": "typing", "on": True})

        try:
            turn = await self.gateway.handle(inbound, on_accepted=accepted)
        except InvalidMessage as exc:
            await self.reply(error_frame(exc.code, exc.message, inbound.external_id))
            return
        except BotUnavailable as exc:
            log.warning("Rasa unavailable for a web chat turn: %s", exc)
            await self.hub.broadcast(session, {"type": "typing", "on": False})
            await self.reply(error_frame("bot_unavailable"))
            return
        if turn.duplicate:
            await self.reply(ack_frame(inbound.external_id, turn.user_message.id, duplicate=True))
            return
        for reply in turn.replies:
            await self.hub.broadcast(session, message_frame(reply))
        await self.hub.broadcast(session, {"type": "typing", "on": False})


@router.websocket("/webchat/ws")
async def webchat_socket(socket: WebSocket, gateway: GatewayDep, settings: SettingsDep) -> None:
    origin = socket.headers.get("origin")
    if "*" not in settings.allowed_origins and origin not in settings.allowed_origins:
        await socket.close(code=1008, reason="origin not allowed")
        return
    await socket.accept()
    hub: Hub = socket.app.state.webchat_hub
    connection = WebchatConnection(socket, gateway, hub)
    try:
        while True:
            raw = await socket.receive()
            if raw["type"] == "websocket.disconnect":
                break
            await connection.on_frame(raw)
    except WebSocketDisconnect:
        pass
    finally:
        last = connection.session is not None and hub.leave(connection.session, socket)
        if last and gateway.handoff is not None:
            # Waiting in a queue with no tab open: abandoned unless they come back in time.
            # A task of its own: this handler may be being cancelled, and a database call
            # cancelled half-way leaves its connection behind.
            gateway.spawn(gateway.handoff.user_left(CHANNEL, connection.session))


async def deliver(hub: Hub, data: dict[str, Any]) -> None:
    """Messages sent outside the user's turn (an agent's reply, a queue notice) to their tabs."""
    for message in data["messages"]:
        await hub.broadcast(data["sender"], {"type": "message", **message})
