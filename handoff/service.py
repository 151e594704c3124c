"""The handoff as the app factory wires it: one object built from the gateway's parts.

`ventanilla/app.py` builds `HandoffService(sessions, settings, bot, postman, bus, locks)` and uses
it as:

* the gateway's `core.ports.HumanDesk` (inside a user's turn: intake.py; the user's page closing
  and opening again: presence.py);
* the accounts' listener (`on_account`: agents available from login to logout);
* the background loop (`run` / `stop`: ticker.py);
* `app.state.handoff` for the agents' API (router.py), which reaches the jobs themselves:
  `desk` (desk.py), `presence` (presence.py); its read-only questions are in queries.py.

Every state change of a handoff writes its row in `handoff_events` (events.py).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts.models import User
from core.bus import Bus
from core.locks import ConversationLocks
from core.ports import BotControl, ConversationRef, Postman
from core.protocol import CallbackRequest, HandoffRequest, Reply
from core.settings import Settings
from handoff.context import HandoffContext
from handoff.desk import Desk
from handoff.intake import Intake
from handoff.presence import Presence
from handoff.ticker import Ticker


class HandoffService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        bot: BotControl,
        postman: Postman,
        bus: Bus,
        locks: ConversationLocks,
    ) -> None:
        context = HandoffContext(sessions, settings, bot, postman, bus, locks)
        self.ticker = Ticker(context)
        self.intake = Intake(context, self.ticker)
        self.desk = Desk(context, self.ticker)
        self.presence = Presence(context, self.ticker)

    # ------------------------------------------------------------------ core.ports.HumanDesk

    async def conversation_started(self, conversation: ConversationRef) -> None:
        await self.intake.conversation_started(conversation)

    async def request(self, conversation: ConversationRef, request: HandoffRequest) -> list[Reply]:
        return await self.intake.request(conversation, request)

    async def on_user_message(
        self, conversation: ConversationRef, text: str, payload: str | None
    ) -> list[Reply] | None:
        return await self.intake.on_user_message(conversation, text, payload)

    async def record_csat(self, conversation: ConversationRef, score: int) -> None:
        await self.intake.record_csat(conversation, score)

    async def record_callback(
        self, conversation: ConversationRef, request: CallbackRequest
    ) -> None:
        await self.intake.record_callback(conversation, request)

    async def user_left(self, conversation: ConversationRef) -> None:
        await self.presence.user_left(conversation)

    async def user_returned(self, conversation: ConversationRef) -> None:
        await self.presence.user_returned(conversation)

    # ------------------------------------------------------------------ accounts, background loop

    async def on_account(self, event: str, user: User) -> None:
        await self.presence.on_account(event, user)

    async def run(self) -> None:
        await self.ticker.run()

    async def stop(self) -> None:
        await self.ticker.stop()
