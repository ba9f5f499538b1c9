"""Adding indicators to a workspace and hunting back through all stored data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leaktrace.engine import Engine
from leaktrace.incidents.analyze import incident_params, make_context
from leaktrace.incidents.db import IncidentRow
from leaktrace.incidents.hosts import host_names
from leaktrace.incidents.store import Store
from leaktrace.intel.indicators import load_file
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace


@dataclass
class HuntResult:
    loaded: int
    added: int
    findings: int
    incidents: list[IncidentRow]


def add_and_hunt(ws: Workspace, path: Path) -> HuntResult:
    """Load ``path``, store its new indicators, match all indicators against all history, regroup."""
    items = load_file(path)
    store = Store.for_workspace(ws)
    added = store.add_indicators(items)
    return HuntResult(len(items), added, *hunt(ws, store))


def hunt(ws: Workspace, store: Store) -> tuple[int, list[IncidentRow]]:
    from leaktrace.detect.registry import detectors

    tenant = ws.tenant
    eng = Engine.for_lake(Lake(ws.lake_dir), tenant)
    ctx = make_context(ws, eng, tenant, store, since=None)
    found = detectors.get("intel")().run(ctx)
    store.upsert_findings(found)
    incidents = store.regroup(tenant, incident_params(ws), host_names(ws, eng))
    return len(found), incidents
