"""The Typer app, shared options, and the one place that catches errors broadly."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from leaktrace.errors import LeaktraceError
from leaktrace.workspace import ENV_VAR, Workspace

app = typer.Typer(
    name="leaktrace",
    help="Find what left the network, from which PC, to which server; stop it; report it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", envvar=ENV_VAR, help="Workspace folder (or $LEAKTRACE_WORKSPACE)."),
]

# Modules that add commands to `app`; each is imported once by main().
COMMAND_MODULES = [
    "leaktrace.cli.workspace_cmds",
    "leaktrace.cli.ingest_cmds",
    "leaktrace.cli.sim_cmds",
    "leaktrace.cli.detect_cmds",
    "leaktrace.cli.documents_cmds",
    "leaktrace.cli.investigate_cmds",
    "leaktrace.cli.respond_cmds",
    "leaktrace.cli.notify_cmds",
    "leaktrace.cli.live_cmds",
    "leaktrace.cli.report_cmds",
    "leaktrace.cli.serve_cmds",
    "leaktrace.cli.demo_cmds",
]


def open_workspace(path: Path | None) -> Workspace:
    return Workspace.open(path)


def load_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real missing dependency inside the module
                raise


def main() -> None:
    load_commands()
    try:
        app()
    except LeaktraceError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
