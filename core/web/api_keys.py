"""Integrators' API keys at the door of a route: the REST channel, proactive messages, the
appointments API. Named keys live in `core/accounts/integrators.py`."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Header, Request

from core.accounts import integrators
from core.accounts.service import record
from core.errors import ApiError
from core.web.deps import SessionsDep, SettingsDep, bearer_token

LOOPBACK = ("127.0.0.1", "localhost", "::1")
SHARED_KEY = "clave-compartida"  # how the audit log names VENTANILLA_API_KEY


def call_target(request: Request) -> str:
    """How the audit log names a call: the method and the route, not the path (a path may hold
    a phone number or a folio: personal data)."""
    route = getattr(request.scope.get("route"), "path_format", "?")
    return f"{request.method} {route}"


async def require_api_key(
    request: Request,
    settings: SettingsDep,
    sessions: SessionsDep,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> str | None:
    """The integrator calling (X-API-Key or Bearer): a named key (`ventanilla keys create`) or
    the shared `VENTANILLA_API_KEY`; each use is audited with its name. Without any key
    configured the route is open only on a gateway that listens on loopback (development);
    one reachable from the network refuses, and says why."""
    presented = x_api_key if x_api_key is not None else bearer_token(authorization)
    async with sessions() as session:
        name = None
        if presented is not None:
            shared = settings.api_key.get_secret_value() if settings.api_key else None
            if shared is not None and hmac.compare_digest(presented.encode(), shared.encode()):
                name = SHARED_KEY
            else:
                name = await integrators.key_named(session, presented)
            if name is None:
                raise ApiError(401, "unauthorized", "Falta la clave de API o no es válida.")
            record(session, "api_key_use", actor=name, target=call_target(request))
            await session.commit()
            return name
        if settings.api_key is not None or await integrators.any_live_key(session):
            raise ApiError(401, "unauthorized", "Falta la clave de API o no es válida.")
    if settings.host not in LOOPBACK:
        raise ApiError(
            503,
            "api_key_required",
            "Este servidor es accesible desde la red y no tiene claves de API: el canal REST "
            "está cerrado. Crea una con «ventanilla keys create NOMBRE».",
        )
    return None
