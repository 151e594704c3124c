"""What the handoff's jobs share: the context they are built with, and the tick they may ask for.

`HandoffService` (service.py) builds one `HandoffContext` and gives it to each job: intake
(intake.py), the agents' desk (desk.py), presence (presence.py) and the ticker (ticker.py). The
helpers they share (events.py, queries.py, queueing.py) take it, or just a database session.

Races (two agents claiming, several gateway processes ticking) are settled by conditional UPDATEs
(`... WHERE status = 'waiting'`): `won` reads whether this caller's UPDATE changed the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus import Bus
from core.locks import ConversationLocks
from core.ports import BotControl, Postman
from core.settings import Settings


@dataclass(frozen=True)
class HandoffContext:
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    bot: BotControl  # pause and resume the bot (the gateway's)
    postman: Postman  # told after messages for a user were committed to the outbox
    bus: Bus  # `console` updates for the agents' and supervisors' pages
    locks: ConversationLocks  # one change at a time per conversation, with the user's turns

    @property
    def tz(self) -> ZoneInfo:
        """The contact center's time zone (business hours)."""
        return ZoneInfo(self.settings.timezone)


class Ticks(Protocol):
    """A round of the background loop on demand (ticker.py), e.g. to offer a new handoff now."""

    async def tick_now(self) -> None:
        """Run a round and wait for it; a failure is logged, never raised."""
        ...

    def tick_soon(self) -> None:
        """Start a round in the background."""
        ...


def won(result: Result[Any]) -> bool:
    """Whether a conditional UPDATE changed exactly one row: this caller won the race."""
    return cast(CursorResult[Any], result).rowcount == 1
