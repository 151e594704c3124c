"""`ventanilla channels …`: the messaging channels' set-up from the command line."""

from __future__ import annotations

import asyncio

import typer
from telegram.error import TelegramError

from core.settings import get_settings

channels_app = typer.Typer(help="Canales de mensajería: registro de webhooks.")


@channels_app.command("telegram-webhook")
def telegram_webhook() -> None:
    """Point Telegram at PUBLIC_BASE_URL/webhooks/telegram with TELEGRAM_SECRET_TOKEN."""
    from connectors.telegram.router import set_webhook

    settings = get_settings()
    if settings.telegram_bot_token is None or settings.telegram_secret_token is None:
        typer.echo(
            "Falta TELEGRAM_BOT_TOKEN o TELEGRAM_SECRET_TOKEN: configúralos y vuelve a intentar.",
            err=True,
        )
        raise typer.Exit(2)
    try:
        url = asyncio.run(set_webhook(settings))
    except TelegramError as exc:
        typer.echo(f"Telegram rechazó el registro: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Webhook de Telegram registrado: {url}")
