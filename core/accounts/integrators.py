"""Integrators' API keys: one named key per integrator (a hospital's system, the appointment
reminders), stored as a SHA-256, revocable one by one, each use attributed in the audit log.
The REST channel and the proactive-messages API take them (connectors/deps.py); the shared
`VENTANILLA_API_KEY` still works, attributed to "clave-compartida"."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import IntegratorKey
from core.accounts.service import AccountError, record

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
PREFIX = "vtn_"  # tells a reader of a leaked string what it opens


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(session: AsyncSession, name: str, created_by: str | None = None) -> str:
    """A new key for the integrator `name`: returned once, never stored in the clear."""
    if not NAME.match(name):
        raise AccountError(
            "El nombre debe tener de 3 a 64 caracteres: minúsculas, números, punto, guion o "
            "guion bajo."
        )
    key = PREFIX + secrets.token_urlsafe(32)
    session.add(IntegratorKey(name=name, key_sha256=_digest(key), created_by=created_by))
    record(session, "api_key_created", actor=created_by, target=name)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise AccountError(f"Ya existe una clave llamada {name!r}.") from exc
    return key


async def revoke_key(session: AsyncSession, name: str, revoked_by: str | None = None) -> None:
    row = (
        await session.execute(select(IntegratorKey).where(IntegratorKey.name == name))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        raise AccountError(f"No hay una clave vigente llamada {name!r}.")
    row.revoked_at = datetime.now(UTC)
    record(session, "api_key_revoked", actor=revoked_by, target=name)
    await session.commit()


async def list_keys(session: AsyncSession) -> list[IntegratorKey]:
    return list(
        (await session.execute(select(IntegratorKey).order_by(IntegratorKey.name))).scalars()
    )


async def key_named(session: AsyncSession, presented: str) -> str | None:
    """The name of the live key `presented` is, or None."""
    row = (
        await session.execute(
            select(IntegratorKey).where(IntegratorKey.key_sha256 == _digest(presented))
        )
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = datetime.now(UTC)
    return row.name


async def any_live_key(session: AsyncSession) -> bool:
    count = await session.scalar(
        select(func.count()).select_from(IntegratorKey).where(IntegratorKey.revoked_at.is_(None))
    )
    return bool(count)
