"""Web chat: the widget's files and its WebSocket transport (protocol: webchat/README.md).

A session's secret is issued by the server at the first `hello`, kept by the browser, and
presented again after a reload or a dropped connection to get the history back; each `hello`
answers with a new one. The conversation's sender is another, opaque id that never leaves the
server (webchat/sessions.py), so no one who sees a conversation can open it as the person.

The channel sends by publishing frames on the bus (topic `deliver`): every gateway process hands
them to the sockets of that session it holds, so with several processes a reply reaches a tab
connected to another one. A message is delivered once it is published; a person with no tab open
gets it in the history of their next `hello`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse

from connectors.channel import Channel, InboundMessage, InvalidMessage, Runtime
from connectors.deps import GatewayDep
from connectors.gateway import Accepted, Gateway
from connectors.webchat import sessions
from core.conversations import Message
from core.ports import ConversationRef
from core.web.deps import SettingsDep

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
}
UNKNOWN_SESSION_NOTICE = "No encontramos tu conversación anterior; empezamos una nueva."
EXPIRED_SESSION_NOTICE = (
    "Tu conversación anterior se cerró por inactividad, para proteger tus datos; empezamos una "
    "nueva."
)
NOTICES = {
    sessions.Outcome.UNKNOWN: UNKNOWN_SESSION_NOTICE,
    sessions.Outcome.EXPIRED: EXPIRED_SESSION_NOTICE,
}


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
    """The open sockets of each web chat session (a person may have several tabs open).

    A socket joins before its history is read, so nothing published meanwhile is missed; what
    arrives for it until its `session` frame has gone is held, then sent without the messages
    the history already had.
    """

    def __init__(self) -> None:
        self._sockets: dict[str, set[WebSocket]] = {}
        self._held: dict[WebSocket, list[dict[str, Any]]] = {}

    def join(self, session: str, socket: WebSocket) -> None:
        self._sockets.setdefault(session, set()).add(socket)
        self._held[socket] = []

    async def release(self, socket: WebSocket, seen_up_to: int) -> None:
        """Send what was held for a socket, but the messages with ids up to `seen_up_to`."""
        for frame in self._held.pop(socket, []):
            if frame.get("type") == "message" and frame.get("id", 0) <= seen_up_to:
                continue
            await self.send(socket, frame)

    def leave(self, session: str, socket: WebSocket) -> bool:
        """Forget a socket; True when it was the session's last one (the person left)."""
        self._held.pop(socket, None)
        sockets = self._sockets.get(session)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[session]
                return True
        return False

    async def send(self, socket: WebSocket, frame: dict[str, Any]) -> None:
        held = self._held.get(socket)
        if held is not None:
            held.append(frame)
            return
        await self.send_now(socket, frame)

    async def send_now(self, socket: WebSocket, frame: dict[str, Any]) -> None:
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

    def __init__(self, socket: WebSocket, gateway: Gateway, hub: Hub, idle: timedelta):
        self.socket = socket
        self.gateway = gateway
        self.hub = hub
        self.idle = idle
        self.sender: str | None = None  # the conversation's, once a hello opened it

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

    async def on_hello(self, presented: Any) -> None:
        async with self.gateway.database() as db:
            opened = await sessions.open_session(
                db, presented if isinstance(presented, str) else None, self.idle
            )
        conversation = await self.gateway.open_conversation(CHANNEL, opened.sender)
        if self.sender is not None:
            self.hub.leave(self.sender, self.socket)
        self.sender = opened.sender
        self.hub.join(opened.sender, self.socket)  # before the history: nothing falls in between
        history = await self.gateway.history(conversation)
        if opened.restored:
            await self.gateway.desk.user_returned(conversation)
        await self.hub.send_now(
            self.socket,
            {
                "type": "session",
                "session": opened.secret,
                "restored": opened.restored,
                "history": [m.as_dict() for m in history],
                "notice": NOTICES.get(opened.outcome),
            },
        )
        await self.hub.release(self.socket, history[-1].id if history else 0)

    async def on_message(self, data: dict[str, Any]) -> None:
        client_id = data.get("client_id") if isinstance(data.get("client_id"), str) else None
        if self.sender is None:
            await self.reply(error_frame("no_session", client_id=client_id))
            return
        text, payload = data.get("text"), data.get("payload")
        if not isinstance(text, str) or (payload is not None and not isinstance(payload, str)):
            await self.reply(error_frame("invalid_json", client_id=client_id))
            return
        inbound = InboundMessage(
            channel=CHANNEL,
            sender=self.sender,
            text=text,
            payload=payload or None,
            external_id=client_id[:255] if client_id else None,
        )
        sender = self.sender

        async def acknowledge(accepted: Accepted) -> None:
            await self.reply(ack_frame(client_id, accepted.message.id, accepted.duplicate))
            if not accepted.duplicate:  # the person's other tabs show it too
                await self.hub.broadcast(sender, message_frame(accepted.message), self.socket)
            self.gateway.spawn(_touch(self.gateway, sender))  # not in the turn's way

        try:
            # Shielded: a socket that drops right now does not cancel the commit half-way.
            await asyncio.shield(self.gateway.spawn(self.gateway.accept(inbound, acknowledge)))
        except InvalidMessage as exc:
            await self.reply(error_frame(exc.code, exc.message, inbound.external_id))


class WebchatChannel(Channel):
    name = CHANNEL
    label = "Chat web"
    router = router
    payloads_from_client = True  # the page sends them: only the offered buttons' count

    def __init__(self) -> None:
        super().__init__()
        self.hub = Hub()
        self._relay: asyncio.Task[None] | None = None

    async def start(self, runtime: Runtime) -> None:
        await super().start(runtime)
        self._relay = asyncio.create_task(self._deliver_published(), name="webchat-relay")

    async def stop(self) -> None:
        if self._relay is not None:
            self._relay.cancel()
            await asyncio.gather(self._relay, return_exceptions=True)

    async def send(self, conversation: ConversationRef, message: Message) -> None:
        await self._publish(conversation, [message_frame(message)])

    async def typing(self, conversation: ConversationRef, on: bool) -> None:
        await self._publish(conversation, [{"type": "typing", "on": on}])

    async def _publish(self, conversation: ConversationRef, frames: list[dict[str, Any]]) -> None:
        await self.runtime.bus.publish(
            "deliver", {"channel": CHANNEL, "sender": conversation.sender, "frames": frames}
        )

    async def _deliver_published(self) -> None:
        """Frames for web chat sessions, from any gateway process, to the sockets held here."""
        async for topic, data in self.runtime.bus.subscribe():
            if topic == "deliver" and data.get("channel") == CHANNEL:
                for frame in data["frames"]:
                    await self.hub.broadcast(data["sender"], frame)


def webchat_channel(socket: WebSocket) -> WebchatChannel:
    return socket.app.state.channels[CHANNEL]


@router.websocket("/webchat/ws")
async def webchat_socket(socket: WebSocket, gateway: GatewayDep, settings: SettingsDep) -> None:
    origin = socket.headers.get("origin")
    if "*" not in settings.allowed_origins and origin not in settings.allowed_origins:
        await socket.close(code=1008, reason="origin not allowed")
        return
    await socket.accept()
    hub = webchat_channel(socket).hub
    idle = timedelta(minutes=settings.webchat_idle_minutes)
    connection = WebchatConnection(socket, gateway, hub, idle)
    try:
        while True:
            raw = await socket.receive()
            if raw["type"] == "websocket.disconnect":
                break
            await connection.on_frame(raw)
    except WebSocketDisconnect:
        pass
    finally:
        if connection.sender is not None and hub.leave(connection.sender, socket):
            # Waiting in a queue with no tab open: abandoned unless they come back in time.
            # A task of its own: this handler may be being cancelled, and a database call
            # cancelled half-way leaves its connection behind.
            gateway.spawn(_user_left(gateway, connection.sender))


async def _touch(gateway: Gateway, sender: str) -> None:
    async with gateway.database() as db:
        await sessions.touch(db, sender)


async def _user_left(gateway: Gateway, sender: str) -> None:
    await _touch(gateway, sender)  # idle from now: the last tab closed
    conversation = await gateway.conversation(CHANNEL, sender)
    if conversation is not None:
        await gateway.desk.user_left(conversation)
