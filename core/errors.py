"""Errors the HTTP API answers with: {"error": {"code": …, "message": <Spanish>}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

INVALID_REQUEST = (
    "La solicitud no es válida: revisa que sea JSON en UTF-8 con los campos requeridos."
)
HTTP_ERRORS = {
    400: ("invalid_request", INVALID_REQUEST),
    404: ("not_found", "No existe esa dirección."),
    405: ("method_not_allowed", "Ese método no está permitido en esta dirección."),
}


class ErrorDetail(BaseModel):
    code: str
    message: str  # in Spanish, for the person


class ErrorOut(BaseModel):
    error: ErrorDetail


ANSWERS = {
    401: "Not signed in (or the session ended), or a missing or wrong API key",
    403: "Signed in, but the role or the campaigns do not allow it",
    404: "No such thing, or not one this caller may see",
    409: "It changed meanwhile (taken, closed, already done)",
    429: "Too many attempts: wait for Retry-After",
    503: "A service it needs is down or not configured",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a router or route declares in the OpenAPI document, with their body."""
    return {status: {"model": ErrorOut, "description": ANSWERS[status]} for status in statuses}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers  # e.g. Retry-After with a 429


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(err.get("loc", ())), "type": err.get("type")} for err in exc.errors()
        ]
        return JSONResponse(
            error_body("invalid_request", INVALID_REQUEST, details=details),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = HTTP_ERRORS.get(
            exc.status_code, ("http_error", "No se pudo atender la solicitud.")
        )
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )
