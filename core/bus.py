"""Live updates between the parts of the gateway: consoles and users' sockets.

Two topics carry everything:

* ``deliver`` — a channel's frames for the connections some gateway process holds; the web chat
  publishes ``{"channel": "webchat", "sender", "frames": [...]}`` (messages, typing) and the
  process that holds the person's sockets hands them over. What is published here was already
  committed to the outbox: the bus only reaches the right process.
* ``console`` — ``{"type": "queue" | "conversation" | "presence", "campaign", "handoff_id"}``:
  something changed; the consoles fetch what they show again.

`LocalBus` serves one gateway process. With several processes behind a load balancer, `RedisBus`
carries the same messages over Redis pub/sub, so a reply written on process A reaches a socket held
by process B.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

Message = tuple[str, dict[str, Any]]


class Bus(Protocol):
    async def publish(self, topic: str, data: dict[str, Any]) -> None: ...

    def subscribe(self) -> AsyncIterator[Message]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class LocalBus:
    """Fan-out to this process's subscribers; a slow subscriber loses its oldest messages."""

    def __init__(self, max_pending: int = 1000) -> None:
        self._queues: set[asyncio.Queue[Message]] = set()
        self._max_pending = max_pending

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._queues.clear()

    async def publish(self, topic: str, data: dict[str, Any]) -> None:
        self.fan_out(topic, data)

    def fan_out(self, topic: str, data: dict[str, Any]) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait((topic, data))

    async def subscribe(self) -> AsyncIterator[Message]:
        queue: asyncio.Queue[Message] = asyncio.Queue(self._max_pending)
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)


class RedisBus:
    """The same fan-out, across processes, over Redis pub/sub (`redis.asyncio`)."""

    PREFIX = "ventanilla:"

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis  # only needed at scale

        self._redis = redis.from_url(url)
        self._local = LocalBus()
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _read(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.psubscribe(self.PREFIX + "*")
                self._ready.set()
                async for item in pubsub.listen():
                    if item["type"] != "pmessage":
                        continue
                    topic = item["channel"].decode()[len(self.PREFIX) :]
                    self._local.fan_out(topic, json.loads(item["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarted: subscribe again
                log.warning("Redis pub/sub interrupted (%s); reconnecting", exc)
                await asyncio.sleep(1)

    async def publish(self, topic: str, data: dict[str, Any]) -> None:
        await self._redis.publish(self.PREFIX + topic, json.dumps(data, default=str))

    def subscribe(self) -> AsyncIterator[Message]:
        return self._local.subscribe()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._local.close()
        await self._redis.aclose()


def create_bus(redis_url: str | None) -> Bus:
    return RedisBus(redis_url) if redis_url else LocalBus()
