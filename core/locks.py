"""One conversation at a time: its turns, and the staff's changes to it, run in order.

In one process an asyncio lock per conversation. The interface is what a cross-process lease
(a PostgreSQL advisory lock, or a Redis key with a deadline) would implement for several gateway
replicas: `hold(conversation_id)` as an async context manager.
"""

from __future__ import annotations

import asyncio
import weakref
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class ConversationLocks(Protocol):
    def hold(self, conversation_id: int) -> AbstractAsyncContextManager[object]: ...


class LocalLocks:
    """Per-conversation asyncio locks, forgotten when nobody holds or waits on them."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def hold(self, conversation_id: int) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock
