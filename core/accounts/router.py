"""Staff sign-in: bearer tokens for the API, session cookies (with CSRF) for the consoles.

* `POST /api/auth/login` → `{"token": …}` for programs (`Authorization: Bearer …`).
* `POST /api/auth/session` → the consoles' HTTP-only session cookie plus a readable CSRF cookie;
  every state-changing request made with the session cookie must echo it in `X-CSRF-Token`.
* `POST /api/auth/logout` ends either; `GET /api/auth/me` says who is signed in.

Other parts of the system hear of sign-ins and sign-outs through `app.state.account_listeners`
(the handoff queue makes an agent available at login and offline at logout).
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import service
from core.accounts.models import User
from core.accounts.throttle import LoginThrottle, TooManyAttempts
from core.errors import ApiError, error_responses
from core.web.deps import SessionDep, SessionsDep, bearer_token

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=error_responses(401, 403))

SESSION_COOKIE = "ventanilla_sesion"
CSRF_COOKIE = "ventanilla_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def presented_token(request: Request, authorization: str | None) -> tuple[str | None, bool]:
    """The bearer token, else the session cookie's; and whether it came from the cookie."""
    token = bearer_token(authorization)
    if token is not None:
        return token, False
    cookie = request.cookies.get(SESSION_COOKIE)
    return cookie, cookie is not None


async def current_user(
    request: Request,
    sessions: SessionsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> User:
    """The signed-in user (bearer token or console cookie + CSRF), or 401/403.

    Looked up in a session of its own, closed before the route runs: a console's event stream
    lives for hours, and a request-scoped session would hold a pooled connection all that time
    (16 open consoles once starved the citizens' chat turns of connections).
    """
    token, from_cookie = presented_token(request, authorization)
    if token is None:
        raise ApiError(401, "unauthorized", "Inicia sesión: falta el token de acceso.")
    user = await staff_for_token(request, sessions, token, from_cookie)
    if user is None:
        raise ApiError(401, "unauthorized", "Tu sesión no es válida o ya venció. Inicia sesión.")
    return user


async def staff_for_token(
    request: Request, sessions: async_sessionmaker[AsyncSession], token: str, from_cookie: bool
) -> User | None:
    """The staff member a token belongs to (None: it is no staff session, perhaps an
    integrator's key); a console cookie on a changing request must bring its CSRF code (403)."""
    if from_cookie and request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(presented.encode(), service.csrf_for(token).encode()):
            raise ApiError(
                403,
                "csrf",
                "La página no envió su código de seguridad. Recárgala e intenta de nuevo.",
            )
    idle = timedelta(minutes=request.app.state.settings.session_idle_minutes)
    async with sessions() as session:
        user = await service.user_for_token(session, token, idle)
    if user is not None:
        for listener in getattr(request.app.state, "account_listeners", []):
            await listener("seen", user)
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


class SessionOut(Me):
    csrf_token: str


async def _sign_in(
    request: Request, session: AsyncSession, body: LoginIn
) -> tuple[User, str, datetime]:
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "desconocida"
    try:
        await throttle.admit(body.username, address)
    except TooManyAttempts:
        service.record(session, "login_throttled", target=body.username[:64], address=address)
        await session.commit()
        raise
    async with throttle.checking:
        user = await service.authenticate(session, body.username, body.password)
    if user is None:
        await throttle.failed(address)
        raise ApiError(401, "invalid_credentials", "Usuario o contraseña incorrectos.")
    await throttle.succeeded(body.username)
    token, expires = await service.issue_token(session, user)
    for listener in getattr(request.app.state, "account_listeners", []):
        await listener("login", user)
    return user, token, expires


@router.post(
    "/login",
    response_model=TokenOut,
    summary="Exchange a username and password for a bearer token",
    responses={
        401: {"description": "Wrong username or password"},
        429: {"description": "Too many failed sign-ins for the account or address (Retry-After)"},
    },
)
async def login(body: LoginIn, request: Request, session: SessionDep) -> TokenOut:
    _, token, expires = await _sign_in(request, session, body)
    return TokenOut(token=token, expires_at=expires)


@router.post(
    "/session",
    response_model=SessionOut,
    summary="Sign in to the consoles: sets the session cookie and the CSRF cookie",
    responses={
        401: {"description": "Wrong username or password"},
        429: {"description": "Too many failed sign-ins for the account or address (Retry-After)"},
    },
)
async def open_session(
    body: LoginIn, request: Request, response: Response, session: SessionDep
) -> SessionOut:
    user, token, expires = await _sign_in(request, session, body)
    settings = request.app.state.settings
    # Secure cookies whenever people reach the gateway over HTTPS, and always in production.
    secure = settings.public_url.startswith("https://") or settings.environment == "production"
    csrf = service.csrf_for(token)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        expires=expires,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        expires=expires,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return SessionOut(
        username=user.username, role=user.role, campaigns=user.campaigns, csrf_token=csrf
    )


@router.post("/logout", status_code=204, summary="End the session or revoke the bearer token")
async def logout(
    user: CurrentUser,
    request: Request,
    response: Response,
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    token, _ = presented_token(request, authorization)
    assert token is not None
    await service.revoke_token(session, token)
    for listener in getattr(request.app.state, "account_listeners", []):
        await listener("logout", user)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me, summary="The account the token or session belongs to")
async def me(user: CurrentUser) -> Me:
    return Me(username=user.username, role=user.role, campaigns=user.campaigns)
