"""Typed dependencies, so a route declares what it needs in its signature.

Everything here reads what the app factory (`ventanilla/app.py`) built once at start-up and put
on `app.state`; a route names the alias (`SettingsDep`, `SessionDep`, `BusDep`) instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from core.bus import Bus
from core.settings import Settings


def get_app_settings(conn: HTTPConnection) -> Settings:
    return conn.app.state.settings


def get_sessions(conn: HTTPConnection) -> async_sessionmaker[AsyncSession]:
    return conn.app.state.sessions


async def get_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """A database session for one request. Not for streams: a session that has run a query holds
    a pooled connection until it closes, and a stream's dependencies close only when it ends."""
    async with conn.app.state.sessions() as session:
        yield session


def get_bus(conn: HTTPConnection) -> Bus:
    return conn.app.state.bus


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
BusDep = Annotated[Bus, Depends(get_bus)]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, None for anything else."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None
