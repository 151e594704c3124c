"""The application database: SQLAlchemy 2 (async) engine, declarative base and Alembic migrations.

SQLite under var/ by default; PostgreSQL when VENTANILLA_DATABASE_URL says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.config import Config
from annotated_types import Ge, Le
from sqlalchemy import DateTime, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


# A row's id as requests may name it (a path, a body): SQLite and PostgreSQL keep 64-bit integers,
# so a larger number is refused as invalid (422) instead of failing in the driver (500).
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment, stored in UTC and always read back timezone-aware.

    SQLite keeps no time zone and gives naive datetimes back; PostgreSQL gives aware ones. Every
    timestamp column uses this type, so no caller ever has to repair a naive value.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise ValueError(f"Unsupported database backend {backend!r} (use sqlite or postgresql)")
    return parsed.set(drivername=drivers[backend]).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    return _with_driver(url, _ASYNC_DRIVERS)


def sync_url(url: str) -> str:
    return _with_driver(url, _SYNC_DRIVERS)


def _ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def migrate(url: str) -> None:
    """Bring the schema at `url` to the newest Alembic revision (idempotent)."""
    _ensure_sqlite_folder(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    command.upgrade(config, "head")


def create_engine(url: str) -> AsyncEngine:
    _ensure_sqlite_folder(url)
    # A server's connections can drop (a restart, a proxy): PostgreSQL's are pinged at checkout.
    # SQLite's are files in this process: a ping would only double every round trip.
    server = make_url(url).get_backend_name() != "sqlite"
    # hide_parameters: a failing statement's error (and any log of it) never carries the values
    # bound to it, people's words and identifiers among them.
    engine = create_async_engine(async_url(url), pool_pre_ping=server, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers (history, health) run beside the one writer; the busy timeout makes a
    # second writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit survives a crash of
    # the process (what durable turns need), and a turn's few commits cost no disk flush each.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
