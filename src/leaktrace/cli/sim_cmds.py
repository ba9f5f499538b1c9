"""``leaktrace simulate``: write a simulated ministry network with one leak (and a bulk conn.log writer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from leaktrace.cli.app import app, console


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (zeek/, endpoint/, share/, ...).")],
    hosts: Annotated[int, typer.Option(help="Number of user PCs.")] = 50,
    days: Annotated[int, typer.Option(help="Number of days.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical output.")] = 1,
    start: Annotated[str, typer.Option(help="First local day, YYYY-MM-DD.")] = "2026-03-02",
    documents: Annotated[
        int | None, typer.Option(help="Documents on the share (default: 60-200, scaled with hosts).")
    ] = None,
) -> None:
    """Simulate a ministry network in which one PC is compromised and ~20 documents leak."""
    from leaktrace.sim import SimulationConfig
    from leaktrace.sim import simulate as run

    cfg = SimulationConfig(hosts=hosts, days=days, seed=seed, start=start, documents=documents)

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, object] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        result = run(out, progress=progress, config=cfg)
    gt = result.ground_truth
    table = Table(title=f"simulated {hosts} hosts x {days} day(s) in {result.seconds:.1f} s → {out}")
    table.add_column("output")
    table.add_column("rows", justify="right")
    for name, rows in sorted(result.rows.items()):
        table.add_row(f"zeek {name}.log", f"{rows:,}")
    table.add_row("endpoint events", f"{result.endpoint_events:,}")
    table.add_row("share documents", f"{result.documents:,}")
    console.print(table)
    host = gt["compromised_host"]
    console.print(
        f"leak: {host['name']} ({host['ip']}, {host['user']}) → {gt['exfil']['domain']} ({gt['exfil']['ip']}), "
        f"{gt['documents_taken_count']} documents, {gt['exfil']['bytes_uploaded']:,} bytes, "
        f"highest {gt['highest_level_text']}; ground truth in {out / 'ground_truth.json'}",
        highlight=False,
    )


@app.command("simulate-conn")
def simulate_conn(
    path: Annotated[Path, typer.Argument(help="conn.log to write.")],
    rows: Annotated[int, typer.Option(help="Exact number of data rows.")] = 1_000_000,
    hosts: Annotated[int, typer.Option(help="Number of internal hosts.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Write a large Zeek conn.log fast (for ingest benchmarks)."""
    import time

    from leaktrace.sim.bulk import write_conn_log

    began = time.perf_counter()
    n = write_conn_log(path, rows, seed=seed, hosts=hosts)
    secs = time.perf_counter() - began
    console.print(f"wrote {n:,} rows to {path} in {secs:.1f} s ({n / max(secs, 1e-9):,.0f} rows/s)")
