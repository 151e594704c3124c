"""Login throttling: failed sign-ins counted per account and per client address over a moving
window (the `limits` library; in memory, or in Redis when `VENTANILLA_REDIS_URL` is set so that
every gateway process counts the same). Past either limit, every attempt (a right password too)
is refused with 429 and `Retry-After` until the window lets it in again: guessing is slowed to a
few tries per window, and the argon2 work is never done for them. The checks that do run take
turns (`checking`), off the event loop.
"""

from __future__ import annotations

import asyncio
import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from core.errors import ApiError
from core.settings import Settings


class TooManyAttempts(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "too_many_attempts",
            "Demasiados intentos fallidos. Espera unos minutos e intenta de nuevo.",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


def _storage(settings: Settings) -> Storage:
    if settings.redis_url:
        return storage_from_string(f"async+{settings.redis_url}", implementation="redispy")
    return MemoryStorage()


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        window = settings.login_window_seconds
        self._account = RateLimitItemPerSecond(settings.login_failures_per_account, window)
        self._address = RateLimitItemPerSecond(settings.login_failures_per_address, window)
        self._limiter = MovingWindowRateLimiter(_storage(settings))
        # argon2 is meant to be costly: one check at a time per process, so that a flood of
        # sign-ins queues up here instead of taking every core from the citizens' turns.
        self.checking = asyncio.Semaphore(settings.login_checks_at_once)

    async def admit(self, username: str, address: str) -> None:
        """Count this attempt against the account, or TooManyAttempts (429) when the account or
        the address used up its failures. The account's attempts are counted before the
        password is checked (atomically), so concurrent guesses cannot slip past the limit; a
        right password forgets them (`succeeded`)."""
        account = ("login", "account", username.casefold())
        address_key = ("login", "address", address)
        if not await self._limiter.test(self._address, *address_key):
            raise TooManyAttempts(await self._wait(self._address, address_key))
        if not await self._limiter.hit(self._account, *account):
            raise TooManyAttempts(await self._wait(self._account, account))

    async def failed(self, address: str) -> None:
        """A wrong name or password from this address (its account was counted by `admit`)."""
        await self._limiter.hit(self._address, "login", "address", address)

    async def succeeded(self, username: str) -> None:
        """A right password: the account's attempts are forgotten (not the address's failures)."""
        await self._limiter.clear(self._account, "login", "account", username.casefold())

    async def _wait(self, item: RateLimitItem, key: tuple[str, ...]) -> int:
        reset, _ = await self._limiter.get_window_stats(item, *key)
        return max(1, math.ceil(reset - time.time()))
