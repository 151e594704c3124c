"""The `ventanilla` command: operator commands for every part of the system."""

from __future__ import annotations

import typer

from connectors.cli import channels_app
from knowledge_base.cli import kb_app
from triage.cli import triage_app
from ventanilla.bench import bench_app
from ventanilla.bench.kb import bench_kb
from ventanilla.fuzz import fuzz_command
from ventanilla.keys_cli import keys_app
from ventanilla.seed_cli import seed_demo_command
from ventanilla.users_cli import users_app

app = typer.Typer(
    help="Ventanilla: asistente de autoservicio del centro de contacto.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(kb_app, name="kb")
app.add_typer(triage_app, name="triage")
app.add_typer(channels_app, name="channels")
app.command("fuzz")(fuzz_command)
app.command("seed-demo")(seed_demo_command)
# `kb bench` too: the benchmark is the top's (it starts whole systems), the command the KB's.
kb_app.command(
    "bench", help="Answers to people's questions (test half), XQuAD-es, latency, ingest and scale."
)(bench_kb)


@app.command()
def run() -> None:
    """Start the Rasa server, the action server and the gateway, supervised together."""
    from ventanilla.supervisor import run_system

    raise typer.Exit(run_system())


@app.command()
def train(force: bool = typer.Option(False, help="Train even if the model is up to date.")) -> None:
    """Train the Rasa model when its training data changed."""
    from ventanilla.training import ensure_model

    path = ensure_model(force=force)
    typer.echo(f"Modelo listo: {path}")


if __name__ == "__main__":
    app()
