"""Routes for the staff's static pages and the flat folder of their assets (JS, CSS)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from core.errors import ApiError

MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
NO_CACHE = {"Cache-Control": "no-cache"}  # pages change with each deploy


def static_pages(folder: Path, pages: dict[str, str], assets: str) -> APIRouter:
    """`pages`: URL path → HTML file in `folder`; `assets`: URL prefix of the folder's files."""
    router = APIRouter(include_in_schema=False)
    folder = folder.resolve()

    def page(name: str):  # type: ignore[no-untyped-def]
        async def serve() -> FileResponse:
            return FileResponse(folder / name, media_type="text/html", headers=NO_CACHE)

        return serve

    for path, name in pages.items():
        router.add_api_route(path, page(name), methods=["GET"])

    async def asset(name: str) -> FileResponse:
        target = (folder / name).resolve()
        if target.parent != folder or not target.is_file():
            raise ApiError(404, "not_found", "No existe ese archivo.")
        return FileResponse(target, media_type=MEDIA_TYPES.get(target.suffix), headers=NO_CACHE)

    router.add_api_route(f"{assets}/{{name}}", asset, methods=["GET"])
    return router
