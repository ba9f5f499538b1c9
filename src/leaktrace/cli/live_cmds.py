"""`leaktrace watch`: live monitoring (thin over leaktrace.live)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape

from leaktrace.cli.app import WorkspaceOpt, app, console, open_workspace
from leaktrace.errors import LeaktraceError
from leaktrace.live.loop import SourceFailed, WatchLoop
from leaktrace.live.model import StepReport
from leaktrace.live.react import PolicyReactor
from leaktrace.live.wiring import WatchOptions, analyzer, build_sources, known_incidents, make_responder


@app.command("watch")
def watch(
    workspace: WorkspaceOpt = None,
    interface: Annotated[list[str] | None, typer.Option("--interface", "-i", help="Capture on this interface (tcpdump).")] = None,
    zeek_dir: Annotated[list[Path] | None, typer.Option("--zeek-dir", help="Follow the Zeek logs in this folder.")] = None,
    netflow: Annotated[list[int] | None, typer.Option("--netflow", help="Collect NetFlow/IPFIX on this UDP port.")] = None,
    netflow_host: Annotated[str, typer.Option("--netflow-host", help="Address the collector binds.")] = "0.0.0.0",
    interval: Annotated[float, typer.Option("--interval", min=0.2, help="Seconds between micro-batches.")] = 2.0,
    netns: Annotated[str | None, typer.Option("--netns", help="Capture and run nft inside this network namespace.")] = None,
    rotate: Annotated[int, typer.Option("--rotate", min=1, help="Seconds per capture spool file.")] = 5,
    respond: Annotated[bool, typer.Option("--respond/--no-respond", help="Pass incidents to the response policy (respond.mode).")] = True,
    duration: Annotated[float | None, typer.Option("--duration", help="Stop after N seconds (default: Ctrl-C).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every micro-batch.")] = False,
) -> None:
    """Ingest live sources in micro-batches, re-analyse incrementally, print new or escalated incidents and
    apply the response policy (respond.mode in leaktrace.toml) to each. Stops on Ctrl-C (or after ``--duration``)."""
    ws = open_workspace(workspace)
    opt = WatchOptions(interfaces=list(interface or []), zeek_dirs=list(zeek_dir or []),
                       netflow_ports=list(netflow or []), netflow_host=netflow_host, netns=netns,
                       interval=interval, rotate_s=rotate)
    if not (opt.interfaces or opt.zeek_dirs or opt.netflow_ports):
        raise typer.BadParameter("give at least one of --interface, --zeek-dir, --netflow")
    responder = make_responder(ws, netns) if respond else None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    if duration is not None:
        timer = threading.Timer(duration, stop.set)
        timer.daemon = True
        timer.start()

    def on_step(report: StepReport) -> None:
        if responder is not None:
            for row in responder.expire_due():
                console.print(f"expired {row.public_id} {row.target}", highlight=False)
        if verbose:
            for b in report.batches:
                rows = ", ".join(f"{t} {n}" for t, n in sorted(b.rows.items()))
                console.print(f"{time.strftime('%H:%M:%S')} {escape(b.source)}: {rows}", highlight=False)
            if report.analyzed:
                console.print(f"  analysed in {report.analysis_seconds:.2f} s", highlight=False)
        for b in report.batches:
            for note in b.notes:
                console.print(f"[yellow]{escape(b.source)}: {escape(note)}[/]")

    loop = WatchLoop(build_sources(ws, opt), analyzer(ws), PolicyReactor(responder) if responder else None,
                     interval=interval, known=known_incidents(ws), on_step=on_step,
                     output=lambda line: console.print(escape(line), highlight=False))
    names = ", ".join([*(f"interface {i}" for i in opt.interfaces), *(f"zeek {d}" for d in opt.zeek_dirs),
                       *(f"netflow :{p}" for p in opt.netflow_ports)])
    console.print(f"watching {names}{f' in netns {netns}' if netns else ''} every {interval:g} s "
                  f"(policy: {responder.settings.mode if responder else 'off'}); Ctrl-C stops", highlight=False)
    try:
        loop.run(stop)
    except SourceFailed as exc:
        raise LeaktraceError(str(exc)) from None
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    console.print(f"stopped after {loop.iterations} micro-batches")
