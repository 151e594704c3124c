"""Staff accounts and API calls for tests that run the whole system."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from connectors.webchat.client import ChatClient
from ventanilla.launcher import RunningSystem, create_account

PASSWORD = "contraseña-de-prueba-1"


def create_user(system: RunningSystem, username: str, role: str, *campaigns: str) -> None:
    """Through the real CLI, as an administrator would."""
    create_account(system, username, role, list(campaigns), PASSWORD)


class Staff:
    """A signed-in staff member using the API with a bearer token."""

    def __init__(self, system: RunningSystem, username: str):
        self.base = system.base_url
        response = httpx.post(
            f"{self.base}/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", headers=self.headers, params=params, timeout=30)

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(f"{self.base}{path}", headers=self.headers, json=body, timeout=30)

    def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.put(f"{self.base}{path}", headers=self.headers, json=body, timeout=30)

    def queue(self) -> list[dict[str, Any]]:
        response = self.get("/api/handoff/queue")
        assert response.status_code == 200, response.text
        return response.json()


def rest_say(system: RunningSystem, sender: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{system.base_url}/api/messages", json={"sender": sender, "text": text}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def eventually(check: Callable[[], Any], timeout: float = 20, every: float = 0.2) -> Any:
    """The first truthy result of `check`, or AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still {result!r} after {timeout} s")
        time.sleep(every)


def frames_until(
    chat: ChatClient, match: Callable[[dict[str, Any]], bool], limit: int = 50
) -> list[dict[str, Any]]:
    """Frames pushed to a web chat (outside its own turns) until one matches."""
    frames = []
    for _ in range(limit):
        frame = chat.receive()
        frames.append(frame)
        if match(frame):
            return frames
    raise AssertionError(f"no matching frame in {frames}")


def offered(frames: list[dict[str, Any]], payload: str) -> dict[str, str]:
    """The button with this payload among a turn's messages (AssertionError if none)."""
    for frame in frames:
        for button in frame.get("buttons") or [] if frame.get("type") == "message" else []:
            if button["payload"] == payload:
                return button
    raise AssertionError(f"no button {payload!r} in {frames}")


def ask_for_a_person(chat: ChatClient, campaign: str) -> list[dict[str, Any]]:
    """On the web chat, as a person does (its page cannot name a campaign): the menu, the topic
    of the question, then "quiero hablar con una persona". The last turn's frames."""
    ask = offered(chat.turn("hola"), "/ask_question")
    topic = offered(
        chat.turn(ask["title"], payload=ask["payload"]),
        f'/ask_question{{"campaign": "{campaign}"}}',
    )
    chat.turn(topic["title"], payload=topic["payload"])
    return chat.turn("quiero hablar con una persona")
