"""Alembic environment: runs migrations on the URL that core.db.migrate() passes in."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from core.db import Base

config = context.config
# The migrations are written by hand (op.create_table …), so nothing here needs the features'
# models: the ground imports no feature. Base.metadata holds whichever tables were imported.
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
