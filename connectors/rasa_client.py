"""The gateway's client of the Rasa server: its REST channel and its status endpoint."""

from __future__ import annotations

from typing import Any

import httpx


class BotUnavailable(Exception):
    """Rasa did not answer (down, starting, timed out or returned an error)."""


class RasaClient:
    def __init__(
        self,
        base_url: str,
        timeout: float,
        client: httpx.AsyncClient | None = None,
        token: str | None = None,
    ):
        self._base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=timeout)
        # Rasa's HTTP API token (`--auth-token`): its conversation API and /status want it; the
        # REST channel's webhook does not.
        self._auth = {"token": token} if token else {}

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """One user turn through Rasa's REST channel.

        The bot's messages as text + buttons; an action's structured request to the gateway (a
        `json_message`, e.g. a handoff) comes as `{"custom": {...}}`.
        """
        try:
            response = await self._client.post(
                f"{self._base_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata or {}},
            )
            response.raise_for_status()
            raw = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise BotUnavailable(str(exc)) from exc
        return normalize_bot_messages(raw)

    async def add_event(self, sender: str, event: dict[str, Any]) -> None:
        """Append an event to a conversation's tracker (`pause`, `resume`)."""
        await self._post(f"/conversations/{sender}/tracker/events", event)

    async def execute(self, sender: str, action: str) -> list[dict[str, Any]]:
        """Run an action in a conversation (outside a user turn); the messages it produced."""
        body = await self._post(f"/conversations/{sender}/execute", {"name": action})
        return normalize_bot_messages(body.get("messages") or [])

    async def paused(self, sender: str) -> bool:
        """Whether Rasa holds the conversation paused (it then logs messages, answers none)."""
        try:
            response = await self._client.get(
                f"{self._base_url}/conversations/{sender}/tracker",
                params={"include_events": "NONE", **self._auth},
            )
            response.raise_for_status()
            return bool(response.json().get("paused"))
        except (httpx.HTTPError, ValueError) as exc:
            raise BotUnavailable(str(exc)) from exc

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client.post(
                f"{self._base_url}{path}",
                json=body,
                params={"include_events": "NONE", **self._auth},
            )
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise BotUnavailable(str(exc)) from exc

    async def ready(self) -> bool:
        """True when the Rasa server answers and has a model loaded."""
        try:
            response = await self._client.get(
                f"{self._base_url}/status", params=self._auth, timeout=3
            )
            return response.status_code == 200 and bool(response.json().get("model_id"))
        except (httpx.HTTPError, ValueError):
            return False

    async def aclose(self) -> None:
        await self._client.aclose()


def normalize_bot_messages(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa's reply items → messages for people, and `{"custom": …}` requests for the gateway."""
    out: list[dict[str, Any]] = []
    for item in raw:
        if item.get("text") or item.get("buttons") or item.get("image"):
            out.append(normalize_bot_message(item))
        if isinstance(item.get("custom"), dict):
            out.append({"custom": item["custom"]})
    return out


def normalize_bot_message(item: dict[str, Any]) -> dict[str, Any]:
    """Rasa's REST reply item → {"text", "buttons": [{"title", "payload"}]} (images as links)."""
    text = item.get("text") or ""
    if item.get("image"):
        text = f"{text}\n{item['image']}".strip()
    buttons = [
        {"title": str(button.get("title", "")), "payload": str(button.get("payload", ""))}
        for button in item.get("buttons") or []
    ]
    return {"text": text, "buttons": buttons}
