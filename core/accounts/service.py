"""Accounts: creating them, checking passwords (argon2id), issuing and resolving bearer tokens.

Nothing here knows about HTTP; the router and the CLI call these functions.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ROLES, ApiToken, AuditEvent, User
from core.campaigns import CAMPAIGNS

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_CHARS = 10
TOKEN_LIFETIME = timedelta(hours=12)

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked when the username does not exist, so that a wrong name costs as long as a wrong
    password. Made at first use, not at import: every CLI command imports this module."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account request that cannot be done, with the reason in Spanish."""


class UnknownAccount(AccountError):
    """The account named does not exist."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_account(username: str, password: str, role: str, campaigns: list[str]) -> None:
    if not USERNAME.match(username):
        raise AccountError(
            "El usuario debe tener de 3 a 64 caracteres: minúsculas, números, punto, guion o "
            "guion bajo, y empezar con letra o número."
        )
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"La contraseña debe tener al menos {MIN_PASSWORD_CHARS} caracteres.")
    check_role(role, campaigns)


def check_role(role: str, campaigns: list[str]) -> None:
    if role not in ROLES:
        raise AccountError(f"Rol desconocido {role!r}. Roles: {', '.join(ROLES)}.")
    unknown = [code for code in campaigns if code not in CAMPAIGNS]
    if unknown:
        raise AccountError(
            f"Campaña desconocida: {', '.join(unknown)}. Campañas: {', '.join(CAMPAIGNS)}."
        )
    if role == "agent" and not campaigns:
        raise AccountError("Un agente necesita al menos una campaña (--campaign).")


def record(
    session: AsyncSession,
    action: str,
    actor: str | None = None,
    target: str | None = None,
    **detail: Any,
) -> None:
    """Add one audit event (committed with the caller's transaction)."""
    session.add(AuditEvent(actor=actor, action=action, target=target, detail=detail))


async def find_user(session: AsyncSession, username: str) -> User | None:
    return (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()


async def create_user(
    session: AsyncSession,
    username: str,
    password: str,
    role: str,
    campaigns: list[str],
    created_by: str | None = None,
) -> User:
    check_new_account(username, password, role, campaigns)
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        campaigns=sorted(set(campaigns)),
    )
    session.add(user)
    record(
        session, "user_created", actor=created_by, target=username, role=role, campaigns=campaigns
    )
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise AccountError(f"El usuario {username!r} ya existe.") from exc
    return user


async def change_role(
    session: AsyncSession,
    username: str,
    role: str,
    campaigns: list[str],
    changed_by: str | None = None,
) -> User:
    """Give an account a new role and campaigns; the change is audited with the old values."""
    user = await _existing(session, username)
    check_role(role, campaigns)
    before = {"role": user.role, "campaigns": list(user.campaigns)}
    user.role = role
    user.campaigns = sorted(set(campaigns))
    record(
        session,
        "role_changed",
        actor=changed_by,
        target=username,
        before=before,
        after={"role": user.role, "campaigns": user.campaigns},
    )
    await session.commit()
    return user


async def _existing(session: AsyncSession, username: str) -> User:
    user = await find_user(session, username)
    if user is None:
        raise UnknownAccount(f"No existe el usuario {username!r}.")
    return user


async def _revoke_all(session: AsyncSession, user: User) -> int:
    """End every session and token of the account; how many were open."""
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def set_active(
    session: AsyncSession, username: str, active: bool, changed_by: str | None = None
) -> User:
    """Deactivate an account (someone leaves: no sign-in, every session ends at once, open
    consoles within half a minute) or activate it again; audited."""
    user = await _existing(session, username)
    user.active = active
    revoked = 0 if active else await _revoke_all(session, user)
    action = "account_activated" if active else "account_deactivated"
    record(session, action, actor=changed_by, target=username, tokens_revoked=revoked)
    await session.commit()
    return user


async def reset_password(
    session: AsyncSession, username: str, password: str, changed_by: str | None = None
) -> User:
    """A new password (at least MIN_PASSWORD_CHARS); every open session ends; audited."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"La contraseña debe tener al menos {MIN_PASSWORD_CHARS} caracteres.")
    user = await _existing(session, username)
    user.password_hash = await asyncio.to_thread(hash_password, password)
    revoked = await _revoke_all(session, user)
    record(session, "password_reset", actor=changed_by, target=username, tokens_revoked=revoked)
    await session.commit()
    return user


async def revoke_tokens(session: AsyncSession, username: str, changed_by: str | None = None) -> int:
    """End every session and bearer token of an account (a lost laptop); audited."""
    user = await _existing(session, username)
    revoked = await _revoke_all(session, user)
    record(session, "tokens_revoked", actor=changed_by, target=username, tokens_revoked=revoked)
    await session.commit()
    return revoked


async def authenticate(session: AsyncSession, username: str, password: str) -> User | None:
    """The active user with that password, or None; each attempt is audited."""
    user = await find_user(session, username)
    # argon2 takes tens of milliseconds of CPU on purpose: off the event loop, so that a flood
    # of sign-ins does not hold up the citizens' turns.
    stored = user.password_hash if user else await asyncio.to_thread(_dummy_hash)
    ok = await asyncio.to_thread(password_matches, stored, password)
    if user is None or not ok or not user.active:
        record(session, "login_failed", target=username[:64])
        await session.commit()
        return None
    record(session, "login", actor=user.username)
    await session.commit()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(session: AsyncSession, user: User) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + TOKEN_LIFETIME
    session.add(ApiToken(user_id=user.id, token_sha256=_digest(token), expires_at=expires))
    await session.commit()
    return token, expires


# A session's last use is written at most this often (not at every request of a console).
TOUCH_EVERY = timedelta(seconds=60)


async def user_for_token(
    session: AsyncSession, token: str, idle: timedelta | None = None
) -> User | None:
    """The active user a valid (known, unexpired, unrevoked, and, with `idle`, used within that
    long) token belongs to. A token left idle is revoked."""
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_sha256 == _digest(token))
        )
    ).first()
    if row is None:
        return None
    api_token, user = row
    expires = api_token.expires_at
    if expires.tzinfo is None:  # SQLite gives naive datetimes back
        expires = expires.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    if api_token.revoked_at is not None or expires <= now or not user.active:
        return None
    last = api_token.last_used_at or api_token.created_at
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if idle is not None and now - last > idle:
        api_token.revoked_at = now
        record(session, "session_idle", actor=user.username)
        await session.commit()
        return None
    if now - last >= TOUCH_EVERY:
        api_token.last_used_at = now
        await session.commit()
    return user


async def revoke_token(session: AsyncSession, token: str) -> None:
    await session.execute(
        update(ApiToken)
        .where(ApiToken.token_sha256 == _digest(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    await session.commit()


def csrf_for(token: str) -> str:
    """The CSRF token bound to a console session: a page that cannot read the cookie cannot
    compute it (double submit, without storing anything)."""
    return hashlib.sha256(b"csrf:" + token.encode()).hexdigest()[:40]
