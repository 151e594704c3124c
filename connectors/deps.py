"""The gateway's typed dependencies, so a route declares what it needs in its signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from connectors.gateway import Gateway


def get_gateway(conn: HTTPConnection) -> Gateway:
    return conn.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
