"""`/api/admin/users`: administrators manage staff accounts (the CLI `ventanilla users …` does the
same from the server). Listing, deactivating and activating, resetting a password, ending every
session of an account; each change is audited with the administrator's name. An administrator
cannot deactivate their own account (someone must remain able to undo it)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from core.accounts import service
from core.accounts.access import require
from core.accounts.models import User
from core.accounts.router import CurrentUser
from core.errors import ApiError, error_responses
from core.web.deps import SessionDep

router = APIRouter(
    prefix="/api/admin/users", tags=["admin"], responses=error_responses(401, 403, 404)
)
T = TypeVar("T")


def admins(user: CurrentUser) -> User:
    require(user, "admin")
    return user


AdminUser = Annotated[User, Depends(admins)]


class Account(BaseModel):
    username: str
    role: str
    campaigns: list[str]
    active: bool
    created_at: datetime | None = None


class ActiveIn(BaseModel):
    active: bool


class PasswordIn(BaseModel):
    password: str = Field(min_length=1, max_length=1024)


class Revoked(BaseModel):
    username: str
    tokens_revoked: int


def _account(user: User) -> Account:
    return Account(
        username=user.username,
        role=user.role,
        campaigns=list(user.campaigns),
        active=user.active,
        created_at=user.created_at,
    )


async def _change(work: Awaitable[T]) -> T:
    """An account change, its refusal as the API says it: 404 for an unknown account, else 400."""
    try:
        return await work
    except service.AccountError as exc:
        missing = isinstance(exc, service.UnknownAccount)
        raise ApiError(404 if missing else 400, "account", str(exc)) from exc


@router.get("", response_model=list[Account], summary="Every staff account (never passwords)")
async def accounts(_: AdminUser, session: SessionDep) -> list[Account]:
    users = (await session.execute(select(User).order_by(User.username))).scalars()
    return [_account(u) for u in users]


@router.put(
    "/{username}/active",
    response_model=Account,
    summary="Deactivate (every session ends) or activate an account",
)
async def set_active(
    username: str, body: ActiveIn, admin: AdminUser, session: SessionDep
) -> Account:
    if username == admin.username and not body.active:
        raise ApiError(409, "own_account", "No puedes desactivar tu propia cuenta.")
    user = await _change(service.set_active(session, username, body.active, admin.username))
    return _account(user)


@router.put(
    "/{username}/password",
    response_model=Account,
    summary="Set a new password (every session of the account ends)",
)
async def set_password(
    username: str, body: PasswordIn, admin: AdminUser, session: SessionDep
) -> Account:
    user = await _change(service.reset_password(session, username, body.password, admin.username))
    return _account(user)


@router.post(
    "/{username}/revoke-tokens",
    response_model=Revoked,
    summary="End every session and bearer token of the account",
)
async def revoke(username: str, admin: AdminUser, session: SessionDep) -> Revoked:
    count = await _change(service.revoke_tokens(session, username, admin.username))
    return Revoked(username=username, tokens_revoked=count)
