"""`leaktrace ingest` and `leaktrace stats`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from leaktrace.cli.app import WorkspaceOpt, app, console, open_workspace
from leaktrace.ingest import IngestSummary, ingest_paths
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace


def run_ingest(ws: Workspace, paths: list[Path], tenant: str | None = None, quiet: bool = False) -> IngestSummary:
    """Ingest with a Rich progress bar (one bar per source, bytes)."""
    columns = [TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True, disable=quiet) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(event: str, name: str, done: int, total: int) -> None:
            if event == "start":
                label = name if len(name) <= 60 else "…" + name[-59:]
                tasks[name] = bar.add_task(label, total=max(total, 1))
            elif name in tasks:
                bar.update(tasks[name], completed=done)
                if event == "done":
                    bar.remove_task(tasks.pop(name))

        return ingest_paths(ws, paths, tenant=tenant, progress=progress)


def print_summary(summary: IngestSummary) -> None:
    table = Table(title="ingested", show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(summary.rows.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)
    for s in summary.sources:
        if s.status == "failed":
            console.print(f"[red]failed[/] {s.error}", highlight=False, soft_wrap=True)
        elif s.status == "unknown-format":
            console.print(f"[yellow]skipped[/] {s.name}: unknown format", highlight=False, soft_wrap=True)
        for note in s.notes:
            if s.status == "ingested":
                console.print(f"[dim]note[/] {s.name}: {note}", highlight=False, soft_wrap=True)
        for line, reason in sorted(s.bad_lines, key=lambda b: b[0] or 0)[:20]:
            console.print(f"[yellow]quarantined[/] {s.name}, line {line}: {reason}", highlight=False, soft_wrap=True)
        if len(s.bad_lines) > 20:
            console.print(f"[yellow]… {s.quarantined - 20} more quarantined lines in {s.name}[/]")
    total_rows = sum(summary.rows.values())
    rate = total_rows / summary.seconds if summary.seconds else 0
    console.print(
        f"{summary.count('ingested')} sources ingested, {summary.count('already-ingested')} already in the lake, "
        f"{summary.count('unknown-format')} unknown, {summary.count('failed')} failed; "
        f"{total_rows:,} rows, {summary.quarantined:,} quarantined lines, "
        f"{summary.seconds:.1f} s ({rate:,.0f} rows/s)"
    )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders, .gz or .zip archives.")],
    workspace: WorkspaceOpt = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant the data belongs to (a configured one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Ingest logs into the workspace's lake (idempotent: a source already ingested adds nothing)."""
    ws = open_workspace(workspace)
    tenant = ws.check_tenant(tenant)
    summary = run_ingest(ws, paths, tenant=tenant, quiet=as_json)
    if as_json:
        print(json.dumps({
            "rows": summary.rows,
            "quarantined": summary.quarantined,
            "seconds": round(summary.seconds, 3),
            "sources": [
                {"name": s.name, "status": s.status, "format": s.format, "rows": s.rows,
                 "quarantined": s.quarantined, "notes": s.notes, "error": s.error,
                 "bad_lines": [{"line": ln, "reason": r} for ln, r in s.bad_lines]}
                for s in summary.sources
            ],
        }, ensure_ascii=False, indent=2))
    else:
        print_summary(summary)
    if summary.count("failed"):
        raise typer.Exit(1)


@app.command()
def stats(
    workspace: WorkspaceOpt = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Row counts per table and quarantined lines."""
    ws = open_workspace(workspace)
    tenant = ws.check_tenant(tenant)
    lake = Lake(ws.lake_dir)
    counts = lake.row_counts(tenant)
    sources = lake.sources(tenant)
    quarantined = sum(int(s["quarantined"]) for s in sources)  # type: ignore[call-overload]
    tables = {k: v for k, v in sorted(counts.items()) if k != "quarantine"}
    if as_json:
        print(json.dumps({"tables": tables, "quarantined": quarantined, "sources": len(sources),
                          "tenants": lake.tenants()}, indent=2))
        return
    table = Table(title=f"lake of {ws.root}", show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in tables.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"{len(sources)} sources, {quarantined:,} quarantined lines, tenants: {', '.join(lake.tenants())}")


def _register_collect() -> None:
    from leaktrace.ingest.net.cli import register

    register(app)


_register_collect()
