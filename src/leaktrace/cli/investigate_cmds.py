"""`leaktrace investigate`: the documents an incident took, its timeline, and who acted."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from leaktrace.cli.app import WorkspaceOpt, app, console, open_workspace
from leaktrace.investigate import Attribution, attribute
from leaktrace.investigate.loader import inventory_refs, load_case
from leaktrace.workspace import Workspace


def investigate_incident(ws: Workspace, incident_id: str, tenant: str | None = None) -> Attribution:
    """Attribute an incident with its own tenant's lake and documents (``tenant``: refuse another tenant's)."""
    from leaktrace.errors import NotFoundError
    from leaktrace.incidents.store import Store

    inc = Store.for_workspace(ws).incident(incident_id)
    if tenant is not None and inc.tenant != tenant:
        raise NotFoundError(f"no incident '{incident_id}' of tenant '{tenant}'")
    servers = [inc.server_ip] if inc.server_ip else []
    names = [inc.server_domain] if inc.server_domain else []
    case = load_case(ws, inc.host_ip, servers, names, inc.start, inc.end, tenant=inc.tenant)
    return attribute(case, inventory_refs(ws, inc.tenant))


def _short_paths(paths: list[str]) -> list[str]:
    """Paths without the prefix they all share (the share's root), for a readable table."""
    parts = [p.replace("\\", "/").split("/") for p in paths]
    if len(parts) < 2:
        return [p[-1] for p in parts]
    common = 0
    while all(len(p) > common + 1 and p[common] == parts[0][common] for p in parts):
        common += 1
    return ["/".join(p[common:]) for p in parts]


def print_attribution(result: Attribution, title: str = "") -> None:
    r = result.rollup
    console.print(Panel(f"[bold]{r.sentence}[/]\n"
                        f"host {result.host_ip} ({result.host or 'unknown'}) → {', '.join(result.servers)}\n"
                        f"uploaded {r.bytes_uploaded:,} bytes; documents taken total {r.bytes_read:,} bytes"
                        + (f" (ratio {r.size_ratio:.2f})" if r.size_ratio else ""),
                        title=title or "what left"))
    table = Table(title="documents probably taken", show_edge=False)
    for col in ("level", "document", "people", "confidence", "first read by implant"):
        table.add_column(col)
    taken = result.taken()
    shown = _short_paths([d.path for d in taken])
    for d, name in zip(taken, shown, strict=True):
        table.add_row(d.level or "?", name, str(d.people or ""), f"{d.confidence:.2f}",
                      f"{d.first_read:%Y-%m-%d %H:%M:%S}" if d.first_read else "")
    console.print(table)
    if result.objects:
        objs = Table(title="other objects the implant wrote (archives, dumps)", show_edge=False)
        for col in ("kind", "path", "size", "confidence", "written", "evidence"):
            objs.add_column(col)
        for o in result.objects:
            objs.add_row(o.kind, o.path, f"{o.size:,}" if o.size else "", f"{o.confidence:.2f}",
                         f"{o.first_read:%Y-%m-%d %H:%M:%S}" if o.first_read else "",
                         ", ".join(e.kind for e in o.evidence))
        console.print(objs)
    tl = Table(title="timeline (UTC)", show_edge=False)
    for col in ("time", "phase", "ATT&CK", "what"):
        tl.add_column(col)
    for e in result.timeline:
        tl.add_row(f"{e.ts:%m-%d %H:%M:%S}", e.phase, e.technique or "", e.description)
    console.print(tl)
    rc = result.remote_control
    console.print(Panel("\n".join(rc.reasons), title=f"who acted: {rc.verdict}"))
    for n in result.notes[:10]:
        console.print(f"[dim]note[/] {n}", soft_wrap=True)


@app.command()
def investigate(
    incident_id: Annotated[str | None, typer.Argument(help="Incident id, e.g. INC-0001.")] = None,
    workspace: WorkspaceOpt = None,
    host: Annotated[str | None, typer.Option(help="Internal host IP (instead of an incident id).")] = None,
    server: Annotated[list[str] | None, typer.Option(help="External server IP (repeatable).")] = None,
    since: Annotated[datetime | None, typer.Option(help="Start of the period.")] = None,
    until: Annotated[datetime | None, typer.Option(help="End of the period.")] = None,
    tenant: Annotated[str | None, typer.Option(
        help="With --host: the tenant whose documents are the candidates and whose lake is read (default: the "
             "workspace's tenant's documents). With an incident: must be the incident's tenant.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Which documents an incident probably took (with level and confidence), its timeline, and who acted."""
    ws = open_workspace(workspace)
    tenant = ws.check_tenant(tenant)
    if incident_id:
        result = investigate_incident(ws, incident_id, tenant)
    elif host and server:
        result = attribute(load_case(ws, host, list(server), start=since, end=until, tenant=tenant),
                           inventory_refs(ws, tenant or ws.tenant))
    else:
        raise typer.BadParameter("give an incident id, or --host and --server")
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        print_attribution(result, title=incident_id or "")


def demo_stage(ws: Workspace, sim_dir: Path, truth: dict[str, Any]) -> None:
    """`leaktrace demo`: scan the share into the inventory, then say which documents the top incident took."""
    from leaktrace.documents import Inventory, scan
    from leaktrace.incidents.store import Store

    console.rule("4. inventory the file share: sensitivity levels, personal data, fingerprints")
    with console.status("scanning the share…"), Inventory(ws, ws.tenant) as inv:
        records = list(scan([sim_dir / "share"], ws.config))
        inv.upsert(records)
    levels = Counter(r.level or "(none)" for r in records)
    console.print("documents by level: " + ", ".join(f"{k} {v}" for k, v in sorted(levels.items())))
    incidents = Store.for_workspace(ws).incidents()
    if not incidents:
        console.print("[yellow]no incident to investigate[/]")
        return
    top = incidents[0]
    console.rule(f"5. investigate {top.id}: which documents left, how, and who acted")
    result = investigate_incident(ws, top.id)
    print_attribution(result, title=top.id)
    expected = {d["path"] for d in truth.get("documents_taken", [])}
    got = {(d.inventory_path or d.path).replace("\\", "/").split("/share/", 1)[-1] for d in result.taken()}
    if expected:
        hits = len(expected & got)
        console.print(f"against the ground truth: {hits} of {len(expected)} documents found, "
                      f"{len(got) - hits} extra; highest level {result.rollup.highest_level} "
                      f"(truth {truth.get('highest_level_text')})")
