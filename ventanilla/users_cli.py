"""`ventanilla users …`: staff accounts from the command line (the first admin too)."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from sqlalchemy import select

from core import db
from core.accounts import service
from core.accounts.models import ROLES, User
from core.settings import get_settings

RoleOption = Annotated[str, typer.Option(help=f"Uno de: {', '.join(ROLES)}.")]
CampaignsOption = Annotated[
    list[str] | None, typer.Option(help="Código de campaña; se puede repetir.")
]

users_app = typer.Typer(help="Cuentas personales del personal (agentes, supervisores, editores).")


async def _with_session(work):  # type: ignore[no-untyped-def]
    settings = get_settings()
    assert settings.database_url is not None
    await asyncio.to_thread(db.migrate, settings.database_url)
    engine = db.create_engine(settings.database_url)
    try:
        async with db.session_factory(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def run_change(work):  # type: ignore[no-untyped-def]
    """Run an account or key change in a session; its result, or the reason in Spanish on
    standard error and exit status 2."""
    try:
        return asyncio.run(_with_session(work))
    except service.AccountError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _apply(work, done: str) -> None:  # type: ignore[no-untyped-def]
    """Run an account change; print the account, or the reason in Spanish and exit 2."""
    user = run_change(work)
    campaigns = ", ".join(user.campaigns) or "ninguna"
    typer.echo(f"{done}: {user.username} ({user.role}; campañas: {campaigns})")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Contraseña", hide_input=True, confirmation_prompt=True))


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Leer la contraseña de la entrada estándar.")
]


@users_app.command("create")
def create(
    username: str,
    role: RoleOption,
    campaign: CampaignsOption = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account; the password comes from standard input or a hidden prompt."""
    password = _read_password(password_stdin)
    _apply(
        lambda session: service.create_user(
            session, username, password, role, campaign or [], created_by="cli"
        ),
        "Cuenta creada",
    )


@users_app.command("set-role")
def set_role(
    username: str,
    role: RoleOption,
    campaign: CampaignsOption = None,
) -> None:
    """Change an account's role and campaigns (recorded in the audit log)."""
    _apply(
        lambda session: service.change_role(
            session, username, role, campaign or [], changed_by="cli"
        ),
        "Cuenta actualizada",
    )


@users_app.command("deactivate")
def deactivate(username: str) -> None:
    """Someone leaves: no more sign-ins, every session ends (open consoles within 30 s)."""
    _apply(
        lambda session: service.set_active(session, username, False, changed_by="cli"),
        "Cuenta desactivada; sus sesiones terminaron",
    )


@users_app.command("activate")
def activate(username: str) -> None:
    """Let a deactivated account sign in again."""
    _apply(
        lambda session: service.set_active(session, username, True, changed_by="cli"),
        "Cuenta activada",
    )


@users_app.command("reset-password")
def reset_password(username: str, password_stdin: PasswordStdin = False) -> None:
    """Give an account a new password; its open sessions end."""
    password = _read_password(password_stdin)
    _apply(
        lambda session: service.reset_password(session, username, password, changed_by="cli"),
        "Contraseña cambiada; sus sesiones terminaron",
    )


@users_app.command("revoke-tokens")
def revoke_tokens(username: str) -> None:
    """End every session and bearer token of an account (a lost laptop, a shared password)."""
    count = run_change(lambda session: service.revoke_tokens(session, username, "cli"))
    typer.echo(f"Sesiones terminadas de {username}: {count}")


@users_app.command("list")
def list_users() -> None:
    """List the accounts (never their passwords)."""

    async def fetch(session):  # type: ignore[no-untyped-def]
        return list((await session.execute(select(User).order_by(User.username))).scalars())

    for user in asyncio.run(_with_session(fetch)):
        state = "activa" if user.active else "inactiva"
        typer.echo(f"{user.username}\t{user.role}\t{','.join(user.campaigns) or '-'}\t{state}")
