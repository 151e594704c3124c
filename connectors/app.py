"""The gateway (FastAPI): every channel comes in here and goes on to Rasa.

Run by the supervisor as `uvicorn connectors.app:create_app --factory`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from connectors.deps import SettingsDep
from connectors.errors import install_error_handlers
from connectors.gateway import Gateway, KeyedLocks
from connectors.rasa_client import RasaClient
from connectors.rest.router import router as rest_router
from connectors.webchat.router import Hub, deliver
from connectors.webchat.router import router as webchat_router
from handoff.bus import Bus, create_bus
from handoff.console import router as console_router
from handoff.router import router as handoff_router
from handoff.service import HandoffService
from handoff.supervision import router as supervision_router
from knowledge_base.base import KnowledgeBase, embedder_for, index_path
from knowledge_base.pages import router as kb_pages_router
from knowledge_base.router import Indexer
from knowledge_base.router import router as kb_router
from knowledge_base.service import Workflow
from ventanilla import db
from ventanilla.accounts.router import router as accounts_router
from ventanilla.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert settings.database_url and settings.rasa_url
        await asyncio.to_thread(db.migrate, settings.database_url)
        engine = db.create_engine(settings.database_url)
        rasa = RasaClient(settings.rasa_url, timeout=settings.rasa_timeout_seconds)
        app.state.engine = engine
        app.state.sessions = db.session_factory(engine)
        app.state.rasa = rasa
        bus = create_bus(settings.redis_url)
        await bus.start()
        locks = KeyedLocks()
        handoff = HandoffService(app.state.sessions, settings, rasa, bus, locks)
        app.state.bus = bus
        app.state.handoff = handoff
        app.state.account_listeners = [handoff.on_account]
        app.state.gateway = Gateway(
            app.state.sessions, rasa, settings.max_message_chars, locks=locks, handoff=handoff
        )
        app.state.webchat_hub = Hub()
        app.state.kb_indexer = Indexer(
            KnowledgeBase(
                Workflow(app.state.sessions),
                index_path(settings),
                lambda: embedder_for(settings),
            )
        )
        ticking = asyncio.create_task(handoff.run(), name="handoff-tick")
        outbound = asyncio.create_task(
            _deliver_outbound(bus, app.state.webchat_hub), name="outbound"
        )
        yield
        # The loop is stopped, not cancelled: a task cancelled in the middle of a database call
        # leaves a connection to close after the event loop is gone (aiosqlite hangs there).
        await app.state.gateway.drain(timeout=settings.rasa_timeout_seconds + 5)
        await handoff.stop()
        await ticking
        outbound.cancel()
        await asyncio.gather(outbound, return_exceptions=True)
        await bus.close()
        await rasa.aclose()
        await engine.dispose()

    app = FastAPI(
        title="Ventanilla gateway",
        description="Canales de atención (web chat, REST) frente al asistente Rasa.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(webchat_router)
    app.include_router(rest_router)
    app.include_router(accounts_router)
    app.include_router(handoff_router)
    app.include_router(supervision_router)
    app.include_router(kb_router)
    app.include_router(kb_pages_router)
    app.include_router(console_router)

    @app.get(
        "/health", tags=["health"], summary="200 only when gateway, Rasa and actions are ready"
    )
    async def health(settings: SettingsDep) -> JSONResponse:
        checks = {
            "database": await _database_ready(app),
            "rasa": await app.state.rasa.ready(),
            "action_server": await _action_server_ready(settings.action_server_health_url),
        }
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    return app


async def _deliver_outbound(bus: Bus, hub: Hub) -> None:
    """Messages for users sent outside their turn, to the channel that can deliver them here."""
    async for topic, data in bus.subscribe():
        if topic == "deliver" and data.get("channel") == "webchat":
            await deliver(hub, data)
        # REST users fetch theirs with GET /api/messages/{sender}?after=…


async def _database_ready(app: FastAPI) -> bool:
    try:
        async with app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def _action_server_ready(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            response = await client.get(url)
        return response.status_code == 200
    except httpx.HTTPError:
        return False
