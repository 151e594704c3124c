"""`ventanilla keys …`: the integrators' API keys for the REST channel and proactive messages."""

from __future__ import annotations

import asyncio

import typer

from core.accounts import integrators
from core.accounts.service import AccountError
from ventanilla.users_cli import _with_session

keys_app = typer.Typer(help="Claves de API con nombre, una por sistema integrador.")


def _run(work):  # type: ignore[no-untyped-def]
    try:
        return asyncio.run(_with_session(work))
    except AccountError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from exc


@keys_app.command("create")
def create(name: str) -> None:
    """Make a key for an integrator; it is shown once (only its SHA-256 is stored)."""
    key = _run(lambda session: integrators.create_key(session, name, created_by="cli"))
    typer.echo(f"Clave para {name} (guárdala ahora: no se vuelve a mostrar):\n{key}")


@keys_app.command("revoke")
def revoke(name: str) -> None:
    """Revoke an integrator's key: it stops opening anything at once."""
    _run(lambda session: integrators.revoke_key(session, name, revoked_by="cli"))
    typer.echo(f"Clave revocada: {name}")


@keys_app.command("list")
def list_keys() -> None:
    """The keys by name, with their state and last use (never the keys themselves)."""
    for key in _run(integrators.list_keys):
        state = "revocada" if key.revoked_at else "vigente"
        used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "nunca"
        typer.echo(f"{key.name}\t{state}\túltimo uso: {used}")
