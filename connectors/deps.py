"""The gateway's typed dependencies, so a route declares what it needs in its signature."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header
from starlette.requests import HTTPConnection

from connectors.gateway import Gateway
from core.errors import ApiError
from core.web.deps import SettingsDep, bearer_token


def get_gateway(conn: HTTPConnection) -> Gateway:
    return conn.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def require_api_key(
    settings: SettingsDep,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """When an API key is configured, the caller must present it (X-API-Key or Bearer)."""
    if settings.api_key is None:
        return
    presented = x_api_key if x_api_key is not None else bearer_token(authorization)
    expected = settings.api_key.get_secret_value()
    if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise ApiError(401, "unauthorized", "Falta la clave de API o no es válida.")
