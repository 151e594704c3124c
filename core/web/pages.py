"""The staff pages: one shell around every feature's pages, and the static files they load.

A feature keeps its pages in `<feature>/templates/` (Jinja2 templates that extend
`core/web/templates/shell.html`: the common head, header, navigation and sign-in block) and its own
JS and CSS in `<feature>/static/`, served under the feature's prefix. What every staff page shares
(staff.css, staff.js, the vendored Chart.js) lives once in `core/web/static/`, served at /static
by `shared_static` (mounted by the app factory).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from core.errors import ApiError

HERE = Path(__file__).resolve().parent
SHARED_FOLDER = HERE / "static"
SHARED_PREFIX = "/static"
SHELL_FOLDER = HERE / "templates"

MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}
NO_CACHE = {"Cache-Control": "no-cache"}  # pages change with each deploy


def asset_files(folder: Path, prefix: str) -> APIRouter:
    """`GET {prefix}/{name}`: the JS and CSS files directly in `folder`, nothing else."""
    router = APIRouter(include_in_schema=False)
    folder = folder.resolve()

    async def asset(name: str) -> FileResponse:
        target = (folder / name).resolve()
        if target.parent != folder or target.suffix not in MEDIA_TYPES or not target.is_file():
            raise ApiError(404, "not_found", "No existe ese archivo.")
        return FileResponse(target, media_type=MEDIA_TYPES[target.suffix], headers=NO_CACHE)

    router.add_api_route(f"{prefix}/{{name}}", asset, methods=["GET"])
    return router


shared_static = asset_files(SHARED_FOLDER, SHARED_PREFIX)


def page_templates(folder: Path) -> Environment:
    """The feature's templates in `folder/templates`, then the shell's."""
    return Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(folder / "templates"), FileSystemLoader(SHELL_FOLDER)]
        ),
        autoescape=True,
        undefined=StrictUndefined,  # a page without its title or script fails, not shows blanks
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def staff_pages(folder: Path, pages: dict[str, str], assets: str) -> APIRouter:
    """Routes for a feature's staff pages and its own assets.

    `folder`: the feature's package folder, with `templates/` and `static/`; `pages`: URL path →
    template in `templates/`; `assets`: URL prefix of `static/` (templates see it as `assets`, and
    the shared files' prefix as `shared`).
    """
    folder = folder.resolve()
    templates = page_templates(folder)
    context = {"assets": assets, "shared": SHARED_PREFIX}
    router = APIRouter(include_in_schema=False)

    def page(name: str):  # type: ignore[no-untyped-def]
        async def serve() -> HTMLResponse:
            html = templates.get_template(name).render(context)
            return HTMLResponse(html, headers=NO_CACHE)

        return serve

    for path, name in pages.items():
        router.add_api_route(path, page(name), methods=["GET"])
    router.include_router(asset_files(folder / "static", assets))
    return router
