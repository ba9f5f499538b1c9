"""`leaktrace notify test | send` and `leaktrace notifications` (thin over leaktrace.notify)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leaktrace.cli.app import WorkspaceOpt, app, console, open_workspace
from leaktrace.notify.delivery import Notifier, Outcome
from leaktrace.notify.record import NotificationRecord, NotificationRow

notify_app = typer.Typer(
    help="Notify tenants of incidents (webhook, e-mail, syslog CEF).", no_args_is_help=True
)
app.add_typer(notify_app, name="notify")

# Hook (replace in tests): how the notifier is built for a workspace.
make_notifier = Notifier.for_workspace


def _print(outcomes: list[Outcome]) -> None:
    for o in outcomes:
        style = {"sent": "green", "failed": "bold red", "duplicate": "yellow"}[o.status]
        extra = f" after {o.attempts} attempt(s)" if o.attempts else ""
        why = f": {escape(o.error)}" if o.error else ""
        if o.status == "duplicate":
            why = " (already sent; --force to send again)"
        console.print(
            f"{o.incident_id} {o.event} → {escape(o.target)} ({o.channel}): [{style}]{o.status}[/]{extra}{why}",
            highlight=False,
        )


@notify_app.command("test")
def notify_test(
    target: Annotated[str, typer.Argument(help="Target name from [[notify.targets]].")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Send a harmless test message to one target (recorded as a 'test' delivery)."""
    ws = open_workspace(workspace)
    notifier = make_notifier(ws)
    outcome = notifier.send_test(ws.config.notify.target(target))
    _print([outcome])
    if outcome.status == "failed":
        raise typer.Exit(1)


@notify_app.command("send")
def notify_send(
    incident: Annotated[str, typer.Argument(help="Incident id, e.g. INC-0003.")],
    workspace: WorkspaceOpt = None,
    event: Annotated[str, typer.Option("--event", help="opened or escalated.")] = "opened",
    target: Annotated[str | None, typer.Option("--target", "-t", help="Only this target.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Send even if already sent.")] = False,
) -> None:
    """Send one incident now to the targets serving its tenant (ignores their severity/event filters)."""
    from leaktrace.errors import NotifyError
    from leaktrace.incidents.store import Store

    if event not in ("opened", "escalated"):
        raise NotifyError(f"--event must be 'opened' or 'escalated', not '{event}'")
    ws = open_workspace(workspace)
    inc = Store.for_workspace(ws).incident(incident)
    outcomes = make_notifier(ws).send_now(inc, event, target=target, force=force)  # type: ignore[arg-type]
    _print(outcomes)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


def notification_json(r: NotificationRow) -> dict[str, Any]:
    return {
        "delivery": r.delivery_id,
        "incident": r.incident_id,
        "tenant": r.tenant,
        "event": r.event,
        "severity": r.severity,
        "previous_severity": r.previous_severity,
        "target": r.target,
        "channel": r.channel,
        "trigger": r.trigger,
        "status": r.status,
        "attempts": r.attempts,
        "last_error": r.last_error,
        "payload_sha256": r.payload_sha256,
        "created": r.created_at.isoformat(),
        "updated": r.updated_at.isoformat(),
        "sent": r.sent_at.isoformat() if r.sent_at else None,
    }


@app.command("notifications")
def notifications(
    workspace: WorkspaceOpt = None,
    incident: Annotated[str | None, typer.Option("--incident", "-i", help="Only this incident.")] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many, newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """The record of notifications: what was sent to whom, when, after how many attempts."""
    ws = open_workspace(workspace)
    tenant = ws.check_tenant(tenant)
    rows = NotificationRecord.for_workspace(ws).list(incident_id=incident, tenant=tenant, limit=limit)
    if as_json:
        typer.echo(json.dumps([notification_json(r) for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table()
    for col in (
        "when",
        "incident",
        "event",
        "severity",
        "tenant",
        "target",
        "channel",
        "status",
        "tries",
        "error",
    ):
        table.add_column(col)
    for r in rows:
        style = {"sent": "green", "failed": "bold red"}.get(r.status, "yellow")
        table.add_row(
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"), r.incident_id, r.event, r.severity, escape(r.tenant),
            escape(r.target), r.channel, f"[{style}]{r.status}[/]", str(r.attempts), escape(r.last_error or ""),
        )  # fmt: skip
    console.print(table)
