"""Benchmarks: `ventanilla bench …` commands that measure and print a table."""

import typer

bench_app = typer.Typer(
    help="Benchmarks that print a table of measured figures.", no_args_is_help=True
)

# Commands register themselves on bench_app when their module is imported (kept last: each
# module imports bench_app from here).
from ventanilla.bench import (  # noqa: E402, F401
    appointments,
    channels,
    emergency,
    handoff,
    kb,
    kb_answers,
    load,
    logins,
    nlu,
    overhead,
    webchat,
)
