"""`ventanilla triage …`: the COVID-19 protocol from the terminal."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from triage import engine
from triage.answers import InvalidAnswers, check

triage_app = typer.Typer(help="Triaje COVID-19: el protocolo como datos.", no_args_is_help=True)


@triage_app.command()
def assess(
    file: Annotated[
        Path | None,
        typer.Argument(help="Respuestas en JSON; sin archivo, de la entrada estándar."),
    ] = None,
    version: Annotated[str, typer.Option(help="Versión del protocolo.")] = engine.DEFAULT_VERSION,
) -> None:
    """Assess one answers object: prints level, disposition, the rules that fired, the version."""
    text = file.read_text(encoding="utf-8") if file is not None else sys.stdin.read()
    try:
        raw = json.loads(text)
    except ValueError as exc:
        typer.echo(f"Las respuestas no son JSON válido: {exc}", err=True)
        raise typer.Exit(2) from exc
    protocol = engine.load(version)
    try:
        answers = check(protocol, raw)
    except InvalidAnswers as exc:
        typer.echo(f"Respuestas no válidas: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(json.dumps(engine.assess(protocol, answers).as_dict(), ensure_ascii=False))
