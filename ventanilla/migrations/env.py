"""Alembic environment: runs migrations on the URL that ventanilla.db.migrate() passes in."""

from alembic import context
from sqlalchemy import engine_from_config, pool

import connectors.store  # noqa: F401  (registers the tables on Base.metadata)
import handoff.models  # noqa: F401
import knowledge_base.models  # noqa: F401
import ventanilla.accounts.models  # noqa: F401
from ventanilla.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
