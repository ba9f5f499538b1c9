"""`leaktrace inventory` (scan shares into the document inventory) and `leaktrace documents` (list it).

Only metadata is printed: paths, formats, levels, markings, counts — never document text. Both work on one
tenant's inventory (``--tenant``, default the workspace's tenant): documents scanned for one tenant are not
listed, matched or pruned for another.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from leaktrace.cli.app import WorkspaceOpt, app, console, open_workspace
from leaktrace.documents.model import DocumentRecord, Status
from leaktrace.documents.scanner import ScanProgress, scan
from leaktrace.documents.store import Inventory

TenantOpt = Annotated[str | None, typer.Option(
    help="Tenant the documents belong to (default: the workspace's tenant, [ingest] default_tenant).")]


def _summary_tables(records: list[DocumentRecord]) -> list[Table]:
    levels: Counter[str] = Counter(r.level or "(none)" for r in records if r.status == Status.OK or r.level)
    ranks = {r.level or "(none)": r.level_rank for r in records}
    by_level = Table(title="Documents by level")
    by_level.add_column("level")
    by_level.add_column("documents", justify="right")
    for name, n in sorted(levels.items(), key=lambda kv: -ranks.get(kv[0], 0)):
        by_level.add_row(name, str(n))
    pii: Counter[str] = Counter()
    for r in records:
        if r.container is None:  # containers already sum their members
            pii.update(r.pii_counts)
    pii_t = Table(title="Personal data (hits, confidence ≥ 0.6)")
    pii_t.add_column("type")
    pii_t.add_column("hits", justify="right")
    for k, v in pii.most_common():
        pii_t.add_row(k, str(v))
    pii_t.add_row("people (estimate)", str(sum(r.people_estimate for r in records if r.container is None)))
    tables = [by_level, pii_t]
    unread = [r for r in records if r.status != Status.OK]
    if unread:
        t = Table(title="Not read (listed, not skipped)")
        for col in ("path", "format", "status", "reason"):
            t.add_column(col, overflow="fold")
        for r in unread[:200]:
            t.add_row(r.path, r.format, str(r.status), r.reason or "")
        if len(unread) > 200:
            t.caption = f"… and {len(unread) - 200} more (see `leaktrace documents --json`)"
        tables.append(t)
    return tables


@app.command()
def inventory(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to scan (shares, exported mailboxes …).")],
    workspace: WorkspaceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scan summary as JSON.")] = False,
    prune: Annotated[bool, typer.Option(help="Forget documents under PATHS that no longer exist.")] = True,
    workers: Annotated[int, typer.Option(help="Extraction processes (0 = one per CPU).")] = 1,
    tenant: TenantOpt = None,
) -> None:
    """Scan documents into a tenant's inventory: extract text, read sensitivity markings/labels, count personal
    data, fingerprint."""
    ws = open_workspace(workspace)
    tenant = ws.check_tenant(tenant)
    records: list[DocumentRecord] = []
    with Inventory(ws, tenant) as inv:
        with Progress(TextColumn("[bold]inventory"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[mb]} MB"),
                      TimeElapsedColumn(), console=console, transient=True, disable=as_json) as bar:
            task = bar.add_task("scan", total=None, mb="0")

            def on_progress(p: ScanProgress) -> None:
                bar.update(task, completed=p.done, total=p.total, mb=f"{p.bytes_done / 1e6:.1f}")

            batch: list[DocumentRecord] = []
            n_workers = workers or os.cpu_count() or 1
            for rec in scan(paths, ws.config, previous=inv, progress=on_progress, workers=n_workers):
                records.append(rec)
                batch.append(rec)
                if len(batch) >= 500:
                    inv.upsert(batch)
                    batch.clear()
            inv.upsert(batch)
        roots = [str(p.absolute()) for p in paths]
        removed = inv.prune(roots, {r.path for r in records if r.container is None}) if prune else 0
    origins = Counter(r.origin for r in records if r.container is None)
    if as_json:
        out = {
            "tenant": inv.tenant,
            "documents": len(records),
            "files": sum(origins.values()),
            "extracted": origins.get("extracted", 0),
            "unchanged": origins.get("unchanged", 0) + origins.get("same-hash", 0),
            "removed": removed,
            "by_level": dict(Counter(r.level or "(none)" for r in records)),
            "not_read": [{"path": r.path, "format": r.format, "status": str(r.status), "reason": r.reason}
                         for r in records if r.status != Status.OK],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=1))
        return
    console.print(
        f"{len(records)} documents ({sum(origins.values())} files; {origins.get('extracted', 0)} read, "
        f"{origins.get('unchanged', 0) + origins.get('same-hash', 0)} unchanged; {removed} removed) "
        f"→ {Path(inv.path)} (tenant {escape(inv.tenant)})"
    )
    for t in _summary_tables(records):
        console.print(t)


@app.command()
def documents(
    workspace: WorkspaceOpt = None,
    level: Annotated[str | None, typer.Option(help="Only documents of this level (e.g. 機密性2).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one object per document).")] = False,
    tenant: TenantOpt = None,
) -> None:
    """List a tenant's document inventory (metadata only)."""
    ws = open_workspace(workspace)
    tenant = ws.check_tenant(tenant)
    with Inventory(ws, tenant) as inv:
        recs = inv.all(level=level)
        owner = inv.tenant
    if as_json:
        typer.echo(json.dumps([r.summary() for r in recs], ensure_ascii=False, indent=1))
        return
    t = Table(title=f"{len(recs)} documents of tenant {escape(owner)}")
    t.add_column("path", overflow="fold", ratio=3, min_width=20)
    for col in ("format", "status", "level", "channels", "conf", "PII", "people"):
        t.add_column(col, overflow="fold", ratio=1)
    for r in recs:
        pii = ", ".join(f"{k}:{v}" for k, v in sorted(r.pii_counts.items()))
        level = (r.level or "") + (f" ({'・'.join(r.qualifiers)})" if r.qualifiers else "")
        t.add_row(r.path, r.format, str(r.status), level, ",".join(r.channels), f"{r.confidence:.2f}", pii,
                  str(r.people_estimate or ""))
    console.print(t)
