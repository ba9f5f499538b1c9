"""Build a watch from a workspace: sources from options, ``analyze`` from :mod:`leaktrace.incidents`, the
response policy from :mod:`leaktrace.respond`. The only module of the package that knows those packages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leaktrace.lake import Lake
from leaktrace.live.model import Source
from leaktrace.workspace import Workspace


@dataclass
class WatchOptions:
    interfaces: list[str] = field(default_factory=list)
    zeek_dirs: list[Path] = field(default_factory=list)
    netflow_ports: list[int] = field(default_factory=list)
    netflow_host: str = "0.0.0.0"
    netns: str | None = None
    interval: float = 2.0
    rotate_s: int = 5
    progress_bytes: int = 64 * 1024


def netns_prefix(netns: str | None) -> list[str]:
    return ["ip", "netns", "exec", netns] if netns else []


def live_dir(ws: Workspace) -> Path:
    return ws.state_dir / "live"


def build_sources(ws: Workspace, opt: WatchOptions) -> list[Source]:
    from leaktrace.live.interface import InterfaceSource
    from leaktrace.live.zeektail import ZeekDirSource

    tenant, sensor = ws.tenant, ws.config.ingest.sensor
    sources: list[Source] = []
    for iface in opt.interfaces:
        spool = live_dir(ws) / f"spool-{(opt.netns + '-') if opt.netns else ''}{iface}"
        sources.append(InterfaceSource(Lake(ws.lake_dir), iface, spool, tenant=tenant, sensor=sensor,
                                       prefix=netns_prefix(opt.netns), rotate_s=opt.rotate_s,
                                       progress_bytes=opt.progress_bytes))
    for i, d in enumerate(opt.zeek_dirs):
        sources.append(ZeekDirSource(Path(d), live_dir(ws) / f"zeek-spool-{i}", live_dir(ws) / f"zeek-state-{i}.json",
                                     ingest=lambda paths: _ingest(ws, paths)))
    for port in opt.netflow_ports:
        from leaktrace.collect.netflow import NetflowCollector
        from leaktrace.live.netflow import NetflowSource

        collector = NetflowCollector(ws, opt.netflow_host, port, flush_seconds=max(0.5, opt.interval / 2))
        sources.append(NetflowSource(collector))
    return sources


def _ingest(ws: Workspace, paths: list[Path]) -> Any:
    import leaktrace.ingest.net  # noqa: F401  (registers pcap, Suricata ... ingesters)
    from leaktrace.ingest import ingest_paths

    return ingest_paths(ws, paths)


def analyzer(ws: Workspace) -> Callable[[], list[Any]]:
    """Incremental analysis (``leaktrace analyze``): the incidents after it."""
    from leaktrace.incidents import analyze

    def run() -> list[Any]:
        return list(analyze(ws).incidents)

    return run


def known_incidents(ws: Workspace) -> list[Any]:
    from leaktrace.incidents import Store

    return list(Store.for_workspace(ws).incidents(ws.tenant))


def nft_settings_for(ws: Workspace, netns: str | None) -> Any:
    """``[respond]`` with ``nftables.prefix`` defaulting to ``ip netns exec NS`` when ``--netns`` is given."""
    from leaktrace.respond import respond_config

    settings = respond_config(ws.config)
    if netns and not settings.nftables.prefix:
        settings = settings.model_copy(deep=True)
        settings.nftables.prefix = netns_prefix(netns)
    return settings


def make_responder(ws: Workspace, netns: str | None) -> Any:
    from leaktrace.respond import Responder

    return Responder.for_workspace(ws, settings=nft_settings_for(ws, netns))

