"""`leaktrace block | unblock | blocks | export-blocklist | audit | isolate` (thin over leaktrace.respond)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leaktrace.cli.app import WorkspaceOpt, app, console, open_workspace
from leaktrace.respond.backends import EXPORT_FORMATS
from leaktrace.respond.db import ActionRow
from leaktrace.respond.errors import BlockError
from leaktrace.respond.incidents import TargetResolver, incident_targets
from leaktrace.respond.isolation import FORMATS as ISOLATION_FORMATS
from leaktrace.respond.isolation import release_script
from leaktrace.respond.model import BlockTarget, classify
from leaktrace.respond.runner import CommandRunner
from leaktrace.respond.service import Outcome, Resolver, Responder, current_user
from leaktrace.workspace import Workspace


def _default_incidents(ws: Workspace) -> TargetResolver:
    try:
        from leaktrace.incidents.store import Store
    except ImportError:  # incidents not available: only --server works
        def missing(incident_id: str) -> BlockTarget:
            raise BlockError(f"incidents are not available here; use --server instead of {incident_id}")
        return missing
    return incident_targets(Store.for_workspace(ws).incident)


# Hooks (replace to wire other parts or to test): how an incident id becomes a target, how a domain becomes
# IP addresses from the data (the lake's DNS answers), and how `nft` runs (a test twin).
def _no_resolver(ws: Workspace) -> Resolver | None:
    return None


def _real_nft(ws: Workspace) -> CommandRunner | None:
    return None  # the subprocess runner with the configured [respond.nftables] prefix


incident_resolver: Callable[[Workspace], TargetResolver] = _default_incidents
domain_resolver: Callable[[Workspace], Resolver | None] = _no_resolver
nft_runner: Callable[[Workspace], CommandRunner | None] = _real_nft

UserOpt = Annotated[str | None, typer.Option("--user", help="Who acts (default: $LEAKTRACE_USER or login).")]


def responder(ws: Workspace) -> Responder:
    r = Responder.for_workspace(ws, runner=nft_runner(ws), resolver=domain_resolver(ws))
    r.expire_due()
    return r


def _backends(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [b.strip() for v in values for b in v.split(",") if b.strip()]


def _when(row: ActionRow) -> str:
    return row.expires.strftime("%Y-%m-%d %H:%M:%SZ") if row.expires else "never"


def action_json(row: ActionRow) -> dict[str, Any]:
    return {
        "id": row.public_id, "kind": row.kind, "target": row.target, "target_kind": row.target_kind,
        "backends": row.backends, "status": row.status, "incident": row.incident_id, "severity": row.severity,
        "reason": row.reason, "requested_by": row.requested_by, "approved_by": row.approved_by,
        "created": row.created.isoformat(), "expires": row.expires.isoformat() if row.expires else None,
        "removed": row.removed.isoformat() if row.removed else None, "rule_text": row.rule_text,
        "error": row.error,
    }


def _print_outcome(outcome: Outcome, dry_run: bool) -> None:
    for note in outcome.notes:
        console.print(f"note: {note}", highlight=False)
    if dry_run:
        for item in outcome.planned:
            console.print(f"[bold]would block {item.rule.kind} {item.rule.value}[/]", highlight=False)
            for name, text in item.texts.items():
                console.print(f"  [{name}] {text}", highlight=False, markup=False)
            for why in item.skipped.values():
                console.print(f"  ({why})", highlight=False)
        return
    for row in outcome.actions:
        line = f"{row.public_id} {row.status}: {row.kind} {row.target} on {', '.join(row.backends)}"
        if row.status == "active":
            line += f", expires {_when(row)}"
        if row.status == "pending-approval":
            line += f" (approve with: leaktrace block --approve {row.public_id})"
        console.print(line, highlight=False, markup=False)
        if row.error:
            console.print(f"  error: {row.error}", highlight=False, markup=False)
    for item in outcome.planned:
        for why in item.skipped.values():
            console.print(f"  {item.rule.value}: {why}", highlight=False)


@app.command()
def block(
    incident: Annotated[str | None, typer.Argument(help="Incident id (INC-0001): block its server.")] = None,
    workspace: WorkspaceOpt = None,
    server: Annotated[str | None, typer.Option("--server", help="IP address or domain to block.")] = None,
    expire: Annotated[str | None, typer.Option("--expire", help="e.g. 30m, 12h, 7d, 2w, never.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")] = "",
    backend: Annotated[list[str] | None, typer.Option("--backend", help="nftables,csv,... (default: config).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the rules; change nothing.")] = False,
    approve: Annotated[str | None, typer.Option("--approve", help="Approve a pending action (ACT-0001).")] = None,
    user: UserOpt = None,
) -> None:
    """Block an incident's server (or --server) on the configured backends, audited and expiring."""
    ws = open_workspace(workspace)
    r = responder(ws)
    if approve:
        row = r.approve(approve, user=user)
        console.print(f"{row.public_id} {row.status}: {row.kind} {row.target}, approved by {row.approved_by}, "
                      f"expires {_when(row)}", highlight=False, markup=False)
        if row.status == "failed":
            raise BlockError(f"{row.public_id} failed: {row.error}")
        return
    if bool(incident) == bool(server):
        raise BlockError("give either an incident id or --server IP|DOMAIN")
    if incident:
        target = incident_resolver(ws)(incident)
    else:
        kind, value = classify(server or "")
        target = BlockTarget(server_ip=value if kind == "ip" else None,
                             server_domain=value if kind == "domain" else None)
    outcome = r.block(target, expire=expire, reason=reason, backends=_backends(backend), user=user,
                      dry_run=dry_run)
    _print_outcome(outcome, dry_run)
    if outcome.failed:
        raise BlockError(f"{len(outcome.failed)} action(s) failed: {outcome.failed[0].error}")


@app.command()
def unblock(
    action: Annotated[str | None, typer.Argument(help="Action id (ACT-0001).")] = None,
    workspace: WorkspaceOpt = None,
    server: Annotated[str | None, typer.Option("--server", help="Remove every open block on this server.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")] = "",
    user: UserOpt = None,
) -> None:
    """Roll back a block (or an isolation, or cancel a pending action); recorded in the audit log."""
    if bool(action) == bool(server):
        raise BlockError("give either an action id or --server IP|DOMAIN")
    rows = responder(open_workspace(workspace)).unblock(action, server=server, user=user, reason=reason)
    for row in rows:
        console.print(f"{row.public_id} {row.status}: {row.kind} {row.target}", highlight=False, markup=False)
        if row.kind == "isolate":
            typer.echo(release_script(row.backend, row.target), nl=False)


@app.command()
def blocks(
    workspace: WorkspaceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Every action, not only open ones.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Compare with what nftables really holds.")] = False,
    reapply: Annotated[bool, typer.Option("--reapply", help="Put back blocks missing from nftables.")] = False,
) -> None:
    """Active (and pending) blocks with their expiry and backends."""
    r = responder(open_workspace(workspace))
    if check or reapply:
        problems = r.reconcile(reapply=reapply, user=current_user())
        for line in problems:
            console.print(("reapplied: " if reapply and "missing" in line else "") + line, highlight=False)
        if not problems:
            console.print("nftables matches the active blocks", highlight=False)
        elif not reapply:
            raise typer.Exit(1)
        return
    rows = r.store.actions() if show_all else r.store.actions(status=["active", "pending-approval", "suggested"])
    if as_json:
        console.print_json(json.dumps([action_json(a) for a in rows]))
        return
    table = Table()
    for col in ("id", "kind", "target", "status", "backends", "expires", "incident", "by", "reason"):
        table.add_column(col)
    for a in rows:
        table.add_row(a.public_id, a.kind, a.target, a.status, ", ".join(a.backends), _when(a),
                      a.incident_id or "", escape(a.approved_by or a.requested_by), escape(a.reason))
    console.print(table)


@app.command("export-blocklist")
def export_blocklist(
    workspace: WorkspaceOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(EXPORT_FORMATS)}.")] = "csv",
    out: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE (default: stdout).")] = None,
) -> None:
    """Every active block in a firewall / IPS / DNS / proxy format."""
    if fmt not in EXPORT_FORMATS:
        raise BlockError(f"unknown format '{fmt}' (known: {', '.join(EXPORT_FORMATS)})")
    text = responder(open_workspace(workspace)).export(fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}", highlight=False)


@app.command()
def audit(
    workspace: WorkspaceOpt = None,
    verify: Annotated[bool, typer.Option("--verify", help="Check the hash chain; exit 1 if broken.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The audit log of every block, approval, removal and refusal (who, when, why, what rule)."""
    r = Responder.for_workspace(open_workspace(workspace), runner=None)
    if verify:
        check = r.store.verify_audit()
        if check.ok:
            console.print(f"audit log intact: {check.entries} entries, head {check.head}", highlight=False)
            return
        console.print(f"[bold red]audit log broken:[/] {check.problem}", highlight=False)
        raise typer.Exit(1)
    entries = r.store.audit_entries()
    if as_json:
        console.print_json(json.dumps([
            {"id": e.id, "at": e.at, "actor": e.actor, "event": e.event,
             "action": f"ACT-{e.action_id:04d}" if e.action_id else None, "incident": e.incident_id,
             "target": e.target, "backend": e.backend, "rule_text": e.rule_text, "reason": e.reason,
             "hash": e.hash} for e in entries]))
        return
    table = Table()
    for col in ("#", "at", "actor", "event", "action", "incident", "target", "reason"):
        table.add_column(col)
    for e in entries:
        table.add_row(str(e.id), e.at[:19], escape(e.actor), e.event, f"ACT-{e.action_id:04d}" if e.action_id else "",
                      e.incident_id or "", e.target, escape(e.reason))
    console.print(table)


@app.command()
def isolate(
    incident: Annotated[str | None, typer.Argument(help="Incident id: isolate its PC.")] = None,
    workspace: WorkspaceOpt = None,
    host: Annotated[str | None, typer.Option("--host", help="IP address of the PC to isolate.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="nftables (gateway) or windows (on the PC).")] = "nftables",
    out: Annotated[Path | None, typer.Option("--output", "-o", help="Write the script to FILE.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the script; record nothing.")] = False,
    user: UserOpt = None,
) -> None:
    """Write a script that cuts a PC off except for its management addresses (respond.isolation); audited."""
    if fmt not in ISOLATION_FORMATS:
        raise BlockError(f"unknown isolation format '{fmt}' (known: {', '.join(ISOLATION_FORMATS)})")
    if bool(incident) == bool(host):
        raise BlockError("give either an incident id or --host IP")
    ws = open_workspace(workspace)
    target = incident_resolver(ws)(incident) if incident else BlockTarget(host_ip=host)
    if not target.host_ip:
        raise BlockError(f"incident {incident} names no host address")
    row, script = responder(ws).isolate(target.host_ip, fmt, incident_id=target.incident_id, reason=reason,
                                        user=user or current_user(), dry_run=dry_run)
    if out is not None:
        out.write_text(script, encoding="utf-8")
    if row is not None:
        console.print(f"{row.public_id} {row.status}: isolate {row.target} ({fmt})", highlight=False)
    if out is None:
        typer.echo(script, nl=False)
