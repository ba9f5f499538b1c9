"""`leaktrace init`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leaktrace.cli.app import app, console
from leaktrace.workspace import ENV_VAR, Workspace


@app.command()
def init(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", envvar=ENV_VAR, help="Folder to create.")],
    internal: Annotated[
        str | None, typer.Option(help="Internal networks, comma-separated CIDRs (default: RFC 1918).")
    ] = None,
    tenant: Annotated[str, typer.Option(help="Name of the default tenant.")] = "default",
) -> None:
    """Create a workspace with a leaktrace.toml."""
    nets = [n.strip() for n in internal.split(",") if n.strip()] if internal else None
    ws = Workspace.init(workspace, internal=nets, tenant=tenant)
    console.print(f"workspace ready: [bold]{ws.root}[/] (config: {ws.root / 'leaktrace.toml'})")
