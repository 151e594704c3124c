"""A web chat tab that says hello while its conversation is busy gets its `session` frame first,
then what arrived meanwhile, without the messages its history already had."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.webchat.router import Hub

pytestmark = pytest.mark.asyncio


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send_json(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)


async def test_frames_for_a_joining_tab_wait_for_its_session_frame() -> None:
    hub, old_tab, new_tab = Hub(), Socket(), Socket()
    hub.join("s", old_tab)  # type: ignore[arg-type]
    await hub.release(old_tab, 0)  # type: ignore[arg-type]
    hub.join("s", new_tab)  # type: ignore[arg-type]
    await hub.broadcast("s", {"type": "typing", "on": True})
    await hub.broadcast("s", {"type": "message", "id": 7, "text": "ya en el historial"})
    await hub.broadcast("s", {"type": "message", "id": 8, "text": "nuevo"})
    assert new_tab.frames == []  # held
    await hub.send_now(new_tab, {"type": "session"})  # type: ignore[arg-type]
    await hub.release(new_tab, seen_up_to=7)  # type: ignore[arg-type]
    assert [f.get("id", f["type"]) for f in new_tab.frames] == ["session", "typing", 8]
    assert [f.get("id", f["type"]) for f in old_tab.frames] == ["typing", 7, 8]
