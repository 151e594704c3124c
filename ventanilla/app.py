"""The app factory: the gateway (FastAPI) with every channel, the consoles and the editors.

This is the top of the house: it wires features that do not know each other. The gateway reaches
the handoff through `core.ports.HumanDesk`; the handoff reaches the bot and the outbox through
`BotControl` and `Postman`. Run by the supervisor as `uvicorn ventanilla.app:create_app --factory`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from appointments.builtin import DatabaseRegistry, DatabaseSchedule
from appointments.reminders import send_reminders
from appointments.router import router as appointments_router
from connectors.bot import RasaBot
from connectors.channel import Runtime
from connectors.gateway import Gateway
from connectors.outbox import DeliveryPolicy, Outbox
from connectors.proactive import router as proactive_router
from connectors.rasa_client import RasaClient
from connectors.registry import build_channels, channel_labels
from connectors.speech import build_speech
from connectors.turns import RetryPolicy, TurnRunner
from core import db
from core.accounts.admin import router as admin_router
from core.accounts.router import router as accounts_router
from core.accounts.throttle import LoginThrottle
from core.bus import create_bus
from core.errors import install_error_handlers
from core.locks import LocalLocks
from core.settings import Settings, get_settings
from core.web.deps import SettingsDep
from core.web.pages import shared_static
from core.web.security import SecurityHeaders
from handoff.console import router as console_router
from handoff.deliveries import router as deliveries_router
from handoff.router import router as handoff_router
from handoff.service import HandoffService
from handoff.supervision import router as supervision_router
from knowledge_base.base import KnowledgeBase, embedder_for, index_path
from knowledge_base.pages import router as kb_pages_router
from knowledge_base.router import Indexer
from knowledge_base.router import router as kb_router
from knowledge_base.service import Workflow
from triage.emergencies import SafetyLayer
from triage.pages import router as triage_pages_router
from triage.router import router as triage_router

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    channels = build_channels()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert settings.database_url and settings.rasa_url
        await asyncio.to_thread(db.migrate, settings.database_url)
        engine = db.create_engine(settings.database_url)
        sessions = db.session_factory(engine)
        rasa = RasaClient(
            settings.rasa_url,
            timeout=settings.rasa_timeout_seconds,
            token=settings.rasa_token.get_secret_value() if settings.rasa_token else None,
        )
        bus = create_bus(settings.redis_url)
        await bus.start()
        locks = LocalLocks()
        outbox = Outbox(
            sessions,
            channels,
            DeliveryPolicy(
                attempts=settings.delivery_attempts,
                first_delay=settings.delivery_retry_seconds,
            ),
        )
        handoff = HandoffService(sessions, settings, RasaBot(rasa), outbox, bus, locks)
        speech = build_speech(settings)
        log.info(
            "speech-to-text %s",
            f"on ({settings.stt_url}): voice notes are transcribed"
            if speech
            else "off (STT_URL not set): voice notes are answered politely",
        )
        turns = TurnRunner(
            sessions,
            rasa,
            handoff,
            outbox,
            channels,
            locks,
            SafetyLayer(),
            RetryPolicy(
                retries=settings.turn_retries,
                first_delay=settings.turn_retry_seconds,
                deadline=settings.turn_deadline_seconds,
            ),
            speech,
            settings.stt_max_bytes,
        )
        gateway = Gateway(sessions, turns, handoff, settings.max_message_chars, outbox)
        app.state.engine = engine
        app.state.sessions = sessions
        app.state.rasa = rasa
        app.state.bus = bus
        app.state.handoff = handoff
        app.state.account_listeners = [handoff.on_account]
        app.state.gateway = gateway
        app.state.affiliate_registry = DatabaseRegistry(sessions)
        app.state.schedule = DatabaseSchedule(sessions)
        app.state.kb_indexer = Indexer(
            KnowledgeBase(Workflow(sessions), index_path(settings), lambda: embedder_for(settings))
        )
        for channel in channels.values():
            await channel.start(Runtime(settings=settings, gateway=gateway, bus=bus))
        background = [
            asyncio.create_task(handoff.run(), name="handoff-tick"),
            asyncio.create_task(outbox.run(), name="outbox"),
        ]
        await turns.resume()
        reminders = _reminder_scheduler(settings, sessions, gateway)
        yield
        if reminders is not None:
            reminders.shutdown(wait=False)
        # Stopping: no new turns; those under way finish or stay pending for the next start.
        # Loops are stopped, not cancelled: a task cancelled in the middle of a database call
        # leaves a connection to close after the event loop is gone (aiosqlite hangs there).
        await turns.stop(timeout=settings.rasa_timeout_seconds + 5)
        await gateway.drain(timeout=10)
        await handoff.stop()
        await outbox.stop()
        await asyncio.gather(*background)
        for channel in channels.values():
            await channel.stop()
        await bus.close()
        if speech is not None:
            await speech.aclose()
        await rasa.aclose()
        await engine.dispose()

    docs = settings.api_docs
    app = FastAPI(
        title="Ventanilla gateway",
        description="Canales de atención (web chat, REST) frente al asistente Rasa.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.add_middleware(SecurityHeaders)
    app.state.settings = settings
    app.state.login_throttle = LoginThrottle(settings)
    app.state.channels = channels
    install_error_handlers(app)
    # Channels of one provider may share a router (WhatsApp and SMS through Twilio): once each.
    for channel_router in {id(c.router): c.router for c in channels.values()}.values():
        app.include_router(channel_router)
    for router in (
        proactive_router,
        accounts_router,
        admin_router,
        handoff_router,
        supervision_router,
        deliveries_router,
        kb_router,
        kb_pages_router,
        console_router,
        triage_router,
        triage_pages_router,
        appointments_router,
        shared_static,
    ):
        app.include_router(router)

    @app.get("/api/channels", tags=["channels"], summary="Channel codes and their names")
    async def list_channels() -> dict[str, str]:
        return channel_labels()

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


def _reminder_scheduler(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], gateway: Gateway
) -> AsyncIOScheduler | None:
    """The day-before appointment reminders, every few minutes in sending hours (0: off)."""
    if settings.reminder_every_minutes == 0:
        return None

    async def notify(channel: str, sender: str, text: str) -> None:
        await gateway.notify(channel, sender, text)

    async def remind() -> None:
        sent = await send_reminders(sessions, notify, datetime.now(UTC))
        if sent:
            log.info("%s appointment reminders queued", sent)

    scheduler = AsyncIOScheduler(timezone="America/Mexico_City")
    scheduler.add_job(
        remind, "interval", minutes=settings.reminder_every_minutes, max_instances=1,
        coalesce=True, next_run_time=datetime.now(UTC) + timedelta(minutes=1),
    )  # fmt: skip
    scheduler.start()
    return scheduler
