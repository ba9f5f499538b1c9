"""`leaktrace demo`: simulate a small ministry network with a leak, ingest it, and show what is known."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from leaktrace.cli.app import app, console
from leaktrace.cli.ingest_cmds import print_summary, run_ingest
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace

# Later stages of the demo, each a function (ws, sim_dir, ground_truth) -> None, run when installed.
DEMO_STAGES = [
    "leaktrace.cli.detect_cmds:demo_stage",
    "leaktrace.cli.investigate_cmds:demo_stage",
    "leaktrace.cli.report_cmds:demo_stage",
]


# The demo's last words: how to open the web UI (users are created for it).
DEMO_FINAL = "leaktrace.cli.serve_cmds:demo_stage"


def _stage(ref: str) -> Any | None:
    module, _, name = ref.partition(":")
    try:
        return getattr(importlib.import_module(module), name, None)
    except ModuleNotFoundError:
        return None


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs (replaced).")] = Path("demo-out"),
    hosts: Annotated[int, typer.Option(help="Simulated hosts.")] = 60,
    seed: Annotated[int, typer.Option(help="Scenario seed.")] = 7,
) -> None:
    """Simulate a leak in a small ministry network, ingest it, analyse it, and show the result."""
    from leaktrace.sim import simulate

    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    sim_dir = out / "scenario"
    console.rule("1. simulate a ministry network day with a targeted-mail compromise and a leak")
    with console.status("simulating…"):
        simulate(sim_dir, hosts=hosts, days=1, seed=seed)
    truth = json.loads((sim_dir / "ground_truth.json").read_text(encoding="utf-8"))
    console.print(f"scenario written to {sim_dir}", soft_wrap=True)

    console.rule("2. ingest the Zeek logs and the PCs' endpoint events into the lake")
    ws = Workspace.init(out / "workspace", internal=["10.0.0.0/8"], tenant="ministry")
    summary = run_ingest(ws, [sim_dir / "zeek", sim_dir / "endpoint"])
    print_summary(summary)
    counts = Lake(ws.lake_dir).row_counts()
    table = Table(title="what the lake holds", show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in sorted(counts.items()):
        table.add_row(name, f"{n:,}")
    console.print(table)

    for ref in DEMO_STAGES:
        stage = _stage(ref)
        if stage is not None:
            stage(ws, sim_dir, truth)

    console.rule("ground truth of the simulation (for comparison)")
    host = truth.get("compromised_host", {})
    exfil = truth.get("exfil_server", {})
    docs = truth.get("documents_taken", [])
    console.print(
        Panel(
            f"compromised host: {host.get('ip')} ({host.get('name')}, user {host.get('user')})\n"
            f"exfiltration server: {exfil.get('ip')} ({exfil.get('domain')})\n"
            f"documents taken: {len(docs)}, highest level: {truth.get('highest_level')}",
            title="ground_truth.json",
        )
    )
    console.rule("outputs")
    console.print(f"workspace:   {ws.root}\nscenario:    {sim_dir}\nground truth: {sim_dir / 'ground_truth.json'}\n"
                  f"reports:     {ws.reports_dir}", soft_wrap=True)
    final = _stage(DEMO_FINAL)
    if final is not None:
        final(ws, sim_dir, truth)
