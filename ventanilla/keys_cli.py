"""`ventanilla keys …`: the integrators' API keys for the REST channel and proactive messages."""

from __future__ import annotations

import typer

from core.accounts import integrators
from ventanilla.users_cli import run_change

keys_app = typer.Typer(help="Claves de API con nombre, una por sistema integrador.")


@keys_app.command("create")
def create(name: str) -> None:
    """Make a key for an integrator; it is shown once (only its SHA-256 is stored)."""
    key = run_change(lambda session: integrators.create_key(session, name, created_by="cli"))
    typer.echo(f"Clave para {name} (guárdala ahora: no se vuelve a mostrar):\n{key}")


@keys_app.command("revoke")
def revoke(name: str) -> None:
    """Revoke an integrator's key: it stops opening anything at once."""
    run_change(lambda session: integrators.revoke_key(session, name, revoked_by="cli"))
    typer.echo(f"Clave revocada: {name}")


@keys_app.command("list")
def list_keys() -> None:
    """The keys by name, with their state and last use (never the keys themselves)."""
    for key in run_change(integrators.list_keys):
        state = "revocada" if key.revoked_at else "vigente"
        used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "nunca"
        typer.echo(f"{key.name}\t{state}\túltimo uso: {used}")
