"""The consoles' pages: agent console, supervisor dashboard, reports (static files + the API)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent / "static"
PAGES = {
    "/consola": "console.html",
    "/supervision": "dashboard.html",
    "/supervision/transcripciones": "transcripts.html",
    "/supervision/reporte": "report.html",
}


def _page(name: str):  # type: ignore[no-untyped-def]
    async def page() -> FileResponse:
        return FileResponse(
            STATIC / name, media_type="text/html", headers={"Cache-Control": "no-cache"}
        )

    return page


for path, name in PAGES.items():
    router.add_api_route(path, _page(name), methods=["GET"])


@router.get("/consola/static/{name}")
async def asset(name: str) -> FileResponse:
    target = (STATIC / name).resolve()
    if target.parent != STATIC or not target.is_file():
        from connectors.errors import ApiError

        raise ApiError(404, "not_found", "No existe ese archivo.")
    media = (
        "text/javascript" if name.endswith(".js") else "text/css" if name.endswith(".css") else None
    )
    return FileResponse(target, media_type=media, headers={"Cache-Control": "no-cache"})
