"""`ventanilla seed-demo`: the built-in registry and schedule filled with fictitious data."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from appointments import seed
from appointments.booking import today_local
from ventanilla.users_cli import run_change


def seed_demo_command(
    sample: Annotated[
        int | None,
        typer.Option(help="Imprimir N personas ficticias (JSON) en vez de volver a sembrar."),
    ] = None,
    seed_number: Annotated[int, typer.Option("--seed", help="Semilla: mismos datos.")] = 7,
    today: Annotated[
        str | None, typer.Option(help="El día de hoy (AAAA-MM-DD); por omisión, hoy en CDMX.")
    ] = None,
    if_needed: Annotated[
        bool,
        typer.Option(
            "--if-needed", help="Solo si no hay datos o ya no alcanzan tres semanas (set-up)."
        ),
    ] = False,
) -> None:
    """Fictitious UMFs, affiliates and four weeks of slots (replaces earlier demo data)."""
    day = date.fromisoformat(today) if today else today_local()
    if if_needed and not run_change(lambda session: seed.needs_seeding(session, day)):
        typer.echo("Datos de demostración al día.")
        return
    if sample is None:
        done = run_change(lambda session: seed.seed_demo(session, seed_number, day))
        typer.echo(
            f"Datos de demostración (ficticios): {done.umfs} UMF, {done.affiliates:,} "
            f"derechohabientes, {done.slots:,} horarios del {day + timedelta(days=1)} en adelante."
        )
        return

    async def show(session: AsyncSession) -> list[dict[str, Any]]:
        if not await seed.has_demo(session):
            await seed.seed_demo(session, seed_number, day)
        return await seed.sample(session, sample, day)

    typer.echo(json.dumps(run_change(show), ensure_ascii=False, indent=2))
