"""Web chat sessions: the secret a browser holds is not the conversation's sender.

A session is a conversation (channel `webchat`, an opaque random `sender` that never leaves the
server) and the secrets that open it. The browser keeps its secret and presents it at each
`hello`; the answer carries a new one (rotation) and the one presented stays valid only a few
minutes more, for a tab that reconnects meanwhile. Only a SHA-256 of each secret is stored.

A session left unused `VENTANILLA_WEBCHAT_IDLE_MINUTES` (no `hello`, no message, no tab open)
ends: its secrets no longer open it, and the next `hello` starts a new conversation with a notice.
The conversation itself stays, for the staff who may read it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, String, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime, utcnow

# How long a secret stays valid once a newer one was issued for it.
ROTATION_GRACE = timedelta(minutes=5)


class WebchatSession(Base):
    __tablename__ = "webchat_sessions"

    sender: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class WebchatSecret(Base):
    __tablename__ = "webchat_secrets"

    secret_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender: Mapped[str] = mapped_column(
        ForeignKey("webchat_sessions.sender", ondelete="CASCADE"), index=True
    )
    # None while it is the newest secret of its tab; set when a newer one replaced it.
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None, index=True)


class Outcome(StrEnum):
    NEW = "new"  # no secret presented
    RESTORED = "restored"
    UNKNOWN = "unknown"  # a secret that never opened anything (or retired long ago)
    EXPIRED = "expired"  # its session was left idle too long


@dataclass(frozen=True)
class Opened:
    sender: str
    secret: str  # to give the browser: the one it presented is retiring
    outcome: Outcome

    @property
    def restored(self) -> bool:
        return self.outcome is Outcome.RESTORED


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def open_session(
    session: AsyncSession, presented: str | None, idle: timedelta, now: datetime | None = None
) -> Opened:
    """The session a `hello` opens: the presented secret's, with a fresh secret, or a new one."""
    now = now or utcnow()
    outcome = Outcome.NEW
    if presented:
        found = (
            await session.execute(
                select(WebchatSession, WebchatSecret)
                .join(WebchatSecret, WebchatSecret.sender == WebchatSession.sender)
                .where(WebchatSecret.secret_sha256 == digest(presented))
            )
        ).one_or_none()
        if found is None:
            outcome = Outcome.UNKNOWN
        else:
            web, secret = found
            if secret.valid_until is not None and secret.valid_until <= now:
                outcome = Outcome.UNKNOWN
            elif web.last_seen_at + idle <= now:
                outcome = Outcome.EXPIRED
                await session.execute(
                    delete(WebchatSecret).where(WebchatSecret.sender == web.sender)
                )
            else:
                if secret.valid_until is None:
                    secret.valid_until = now + ROTATION_GRACE
                web.last_seen_at = now
                fresh = _new_secret(session, web.sender)
                await session.commit()
                return Opened(web.sender, fresh, Outcome.RESTORED)
    await _forget_finished(session, idle, now)
    sender = secrets.token_urlsafe(18)
    session.add(WebchatSession(sender=sender, created_at=now, last_seen_at=now))
    await session.flush()
    fresh = _new_secret(session, sender)
    await session.commit()
    return Opened(sender, fresh, outcome)


async def touch(session: AsyncSession, sender: str, now: datetime | None = None) -> None:
    """The person used their session (wrote, or closed their last tab) now."""
    await session.execute(
        update(WebchatSession)
        .where(WebchatSession.sender == sender)
        .values(last_seen_at=now or utcnow())
    )
    await session.commit()


def _new_secret(session: AsyncSession, sender: str) -> str:
    secret = secrets.token_urlsafe(24)
    session.add(WebchatSecret(secret_sha256=digest(secret), sender=sender))
    return secret


async def _forget_finished(session: AsyncSession, idle: timedelta, now: datetime) -> None:
    """Drop retired secrets and those of sessions left idle (their conversations stay)."""
    idle_senders = select(WebchatSession.sender).where(WebchatSession.last_seen_at <= now - idle)
    await session.execute(
        delete(WebchatSecret).where(
            or_(WebchatSecret.valid_until <= now, WebchatSecret.sender.in_(idle_senders))
        )
    )
