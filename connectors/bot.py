"""The bot as the handoff sees it (`core.ports.BotControl`): pause a conversation, take it back."""

from __future__ import annotations

import logging

from connectors.rasa_client import BotUnavailable, RasaClient
from core.ports import ConversationRef
from core.protocol import BotAction, Reply

log = logging.getLogger(__name__)


class RasaBot:
    def __init__(self, rasa: RasaClient) -> None:
        self._rasa = rasa

    async def pause(self, conversation: ConversationRef) -> None:
        try:
            await self._rasa.add_event(conversation.key, {"event": "pause"})
        except BotUnavailable as exc:  # the gateway does not call Rasa in human mode anyway
            log.warning("could not pause Rasa's conversation: %s", exc)

    async def resume(self, conversation: ConversationRef, action: str | None) -> list[Reply]:
        try:
            await self._rasa.add_event(conversation.key, {"event": "resume"})
            if action is None:
                return []
            replies = await self._rasa.execute(conversation.key, action)
            # /execute leaves the tracker after the action; the next user turn must follow a
            # listen, as every rule and story expects.
            await self._rasa.add_event(
                conversation.key, {"event": "action", "name": BotAction.LISTEN}
            )
            said = [m for m in replies if "text" in m]  # not an action's requests
            return [Reply(text=m["text"], buttons=m.get("buttons") or []) for m in said]
        except BotUnavailable as exc:
            log.warning("could not resume Rasa's conversation: %s", exc)
            return []
