"""POST /api/auth/login and GET /api/auth/me."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from connectors.deps import bearer_token
from connectors.errors import ApiError
from ventanilla.accounts import service
from ventanilla.accounts.models import User

router = APIRouter(prefix="/api/auth", tags=["auth"])


async def get_session(conn: HTTPConnection):  # type: ignore[no-untyped-def]
    async with conn.app.state.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def current_user(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> User:
    """The user of a valid `Authorization: Bearer <token>`, or 401."""
    token = bearer_token(authorization)
    if token is None:
        raise ApiError(401, "unauthorized", "Inicia sesión: falta el token de acceso.")
    user = await service.user_for_token(session, token)
    if user is None:
        raise ApiError(401, "unauthorized", "El token de acceso no es válido o ya venció.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: datetime


class Me(BaseModel):
    username: str
    role: str
    campaigns: list[str]


@router.post(
    "/login",
    response_model=TokenOut,
    summary="Exchange a username and password for a bearer token",
    responses={401: {"description": "Wrong username or password"}},
)
async def login(body: LoginIn, session: SessionDep) -> TokenOut:
    user = await service.authenticate(session, body.username, body.password)
    if user is None:
        raise ApiError(401, "invalid_credentials", "Usuario o contraseña incorrectos.")
    token, expires = await service.issue_token(session, user)
    return TokenOut(token=token, expires_at=expires)


@router.get("/me", response_model=Me, summary="The account the token belongs to")
async def me(user: CurrentUser) -> Me:
    return Me(username=user.username, role=user.role, campaigns=user.campaigns)
