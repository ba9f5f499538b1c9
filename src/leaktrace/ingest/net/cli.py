"""Command-line pieces for the network sources, to be added to the main Typer app.

``register(app)`` adds ``leaktrace collect (--netflow [HOST]:PORT | --interface IF)``. The file formats need no command of their
own: once :mod:`leaktrace.ingest.net` is imported, ``leaktrace ingest`` recognises them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from leaktrace.errors import LeaktraceError


def parse_listen(text: str, default_host: str = "0.0.0.0") -> tuple[str, int]:
    """``:2055`` → (default_host, 2055); ``127.0.0.1:2055``; ``[::1]:2055``; ``2055``."""
    text = text.strip()
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = "", text
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise LeaktraceError(f"not a UDP listen address: {text!r} (use [HOST]:PORT, e.g. :2055)")
    return host or default_host, int(port)


def run_collect_netflow(workspace: Path | None, listen: str, flush_seconds: float = 2.0,
                        tenant: str | None = None, stop_event: threading.Event | None = None) -> None:
    """Collect NetFlow/IPFIX until Ctrl-C (or ``stop_event``), printing one line per committed micro-batch."""
    from leaktrace.collect.netflow import NetflowCollector
    from leaktrace.workspace import Workspace

    ws = Workspace.open(workspace)
    tenant = ws.check_tenant(tenant)
    host, port = parse_listen(listen)

    def printed(key: str, rows: dict[str, int]) -> None:
        typer.echo(f"batch {key}: " + ", ".join(f"{t}={n}" for t, n in sorted(rows.items())))

    collector = NetflowCollector(ws, host, port, flush_seconds, tenant=tenant, on_batch=printed)
    bound = collector.bind()
    typer.echo(f"collecting NetFlow v5/v9/IPFIX on udp {host}:{bound} into {ws.lake_dir} (Ctrl-C to stop)")
    stop = stop_event or threading.Event()
    try:
        stats = collector.run(stop)
    except KeyboardInterrupt:
        collector.flush(wait=True)
        stats = collector.stats
    typer.echo(f"{stats.packets} packets ({stats.bad_packets} bad), {stats.records} records, "
               f"{stats.rows} conn rows in {stats.batches} batches")


def run_capture(workspace: Path | None, interface: str, flush_seconds: float = 1.0, tenant: str | None = None,
                stop_event: threading.Event | None = None, netns: str | None = None) -> dict[str, int]:
    """Capture on ``interface`` (tcpdump into a spool, tailed: the same path as ``watch --interface``) until
    Ctrl-C or ``stop_event``, committing a micro-batch every ``flush_seconds``; prints one line per batch and
    returns the rows written per table."""
    from leaktrace.lake import Lake
    from leaktrace.live.interface import InterfaceSource
    from leaktrace.live.wiring import live_dir, netns_prefix
    from leaktrace.workspace import Workspace

    ws = Workspace.open(workspace)
    tenant = ws.check_tenant(tenant)
    spool = live_dir(ws) / f"collect-{(netns + '-') if netns else ''}{interface}"
    source = InterfaceSource(Lake(ws.lake_dir), interface, spool, tenant=tenant or ws.tenant,
                             sensor=ws.config.ingest.sensor, prefix=netns_prefix(netns))
    totals: dict[str, int] = {}

    def add(rows: dict[str, int]) -> None:
        if rows:
            typer.echo("batch: " + ", ".join(f"{t}={n}" for t, n in sorted(rows.items())))
        for t, n in rows.items():
            totals[t] = totals.get(t, 0) + n

    from leaktrace.live.loop import SourceFailed

    try:
        source.start()
    except SourceFailed as exc:
        raise LeaktraceError(f"cannot capture on {interface}: {exc}") from None
    typer.echo(f"capturing on {interface} into {ws.lake_dir} (Ctrl-C to stop)")
    stop = stop_event or threading.Event()
    try:
        while not stop.wait(flush_seconds):
            batch = source.poll()
            if batch is not None:
                add(batch.rows)
    except KeyboardInterrupt:
        pass
    finally:
        source.stop()
        add(source.final.rows if source.final is not None else {})
    typer.echo(", ".join(f"{t}={n}" for t, n in sorted(totals.items())) or "no rows")
    return totals


def register(app: typer.Typer) -> None:
    """Add ``collect`` to ``app``."""

    @app.command()
    def collect(
        netflow: Annotated[str | None, typer.Option("--netflow", help="UDP [HOST]:PORT to listen on, e.g. :2055.")]
        = None,
        interface: Annotated[str | None, typer.Option("--interface", "-i", help="Interface to capture on.")] = None,
        workspace: Annotated[Path | None, typer.Option("--workspace", "-w", envvar="LEAKTRACE_WORKSPACE",
                                                       help="Workspace folder.")] = None,
        flush: Annotated[float, typer.Option(help="Seconds between micro-batches.")] = 2.0,
        tenant: Annotated[str | None, typer.Option(help="Tenant the data belong to.")] = None,
    ) -> None:
        """Collect live: NetFlow v5/v9/IPFIX over UDP, or packets on an interface, into the lake in micro-batches."""
        if (netflow is None) == (interface is None):
            raise LeaktraceError("give exactly one of --netflow [HOST]:PORT or --interface IF")
        if netflow is not None:
            run_collect_netflow(workspace, netflow, flush, tenant)
        else:
            run_capture(workspace, str(interface), flush, tenant)
