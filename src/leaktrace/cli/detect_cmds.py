"""`leaktrace analyze | incidents | show | feedback | status | tip | intel add | detectors`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from leaktrace.cli.app import WorkspaceOpt, app, console, open_workspace
from leaktrace.detect.registry import detectors as detector_registry
from leaktrace.errors import LeaktraceError
from leaktrace.incidents.analyze import analyze as run_analysis
from leaktrace.incidents.db import FindingRow, IncidentRow
from leaktrace.incidents.scoring import LIFECYCLE
from leaktrace.incidents.store import Store

SEV_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "dim"}

intel_app = typer.Typer(help="Indicators of compromise (STIX 2.1, MISP, CSV/plain).", no_args_is_help=True)
app.add_typer(intel_app, name="intel")


def _mb(n: int | None) -> str:
    return f"{(n or 0) / 1e6:,.1f} MB"


def incident_json(inc: IncidentRow, findings: list[FindingRow] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": inc.id,
        "tenant": inc.tenant,
        "host": {"ip": inc.host_ip, "name": inc.host_name},
        "server": {"ip": inc.server_ip, "domain": inc.server_domain},
        "start": inc.start.isoformat(),
        "end": inc.end.isoformat(),
        "severity": inc.severity,
        "score": inc.score,
        "kinds": inc.kinds,
        "bytes_out": inc.bytes_out,
        "bytes_in": inc.bytes_in,
        "status": inc.status,
        "verdict": inc.verdict,
        "origin": inc.origin,
        "explanation": inc.explanation,
    }
    if findings is not None:
        out["findings"] = [
            {
                "key": f.key,
                "detector": f.detector,
                "kind": f.kind,
                "score": f.score,
                "severity": f.severity,
                "first_ts": f.first_ts.isoformat(),
                "last_ts": f.last_ts.isoformat(),
                "dst_ip": f.dst_ip,
                "dst_domain": f.dst_domain,
                "bytes_out": f.bytes_out,
                "conn_count": f.conn_count,
                "summary": f.summary,
                "evidence": f.evidence,
                "uids": f.uids,
            }
            for f in findings
        ]
    return out


@app.command()
def analyze(
    workspace: WorkspaceOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Re-analyse all data, not only what is new.")] = False,
    detector: Annotated[list[str] | None, typer.Option("--detector", "-d", help="Run only these.")] = None,
) -> None:
    """Run the detectors (incrementally) and update the incidents."""
    ws = open_workspace(workspace)
    with console.status("analysing…") as status:
        res = run_analysis(
            ws, full=full, only=detector, progress=lambda name: status.update(f"analysing: {name}…")
        )
    since = f" (records since {res.since.isoformat()})" if res.since else ""
    console.print(
        f"{res.mode} analysis{since}: {res.findings} findings in {res.seconds:.1f} s; "
        f"{len(res.incidents)} incidents"
    )
    for name, n in res.per_detector.items():
        console.print(f"  {name:16} {n:5} findings  {res.timings.get(name, 0):6.2f} s")
    _print_incidents(res.incidents[:10])
    for o in getattr(res, "notifications", []):
        mark = "[green]sent[/]" if o.status == "sent" else ("[red]FAILED[/]" if o.status == "failed" else o.status)
        console.print(f"notification {o.event} {o.incident_id} ({o.severity}) → {o.target}: {mark}"
                      + (f" after {o.attempts} attempts: {o.error}" if o.status == "failed" else ""), soft_wrap=True)


def _print_incidents(rows: list[IncidentRow]) -> None:
    if console.width < 120:  # a narrow terminal (or a pipe): one readable line per incident
        narrow = Table(show_lines=False)
        narrow.add_column("id", no_wrap=True)
        narrow.add_column("severity", no_wrap=True)
        narrow.add_column("host → server", no_wrap=True, overflow="ellipsis", max_width=26)
        narrow.add_column("kinds", min_width=12)
        narrow.add_column("MB", no_wrap=True, justify="right")
        for inc in rows:
            narrow.add_row(inc.id, f"[{SEV_STYLE.get(inc.severity, '')}]{inc.severity}[/] {inc.score:.2f}",
                           f"{inc.host_ip} → {inc.server_domain or inc.server_ip or '-'}", ", ".join(inc.kinds),
                           f"{(inc.bytes_out or 0) / 1e6:.1f}")
        console.print(narrow)
        return
    table = Table(show_lines=False)
    for col in ("id", "severity", "score", "host", "server", "start", "end", "kinds", "bytes out", "status"):
        table.add_column(col, no_wrap=col in ("id", "severity", "score"))
    for inc in rows:
        host = inc.host_ip + (f" ({inc.host_name})" if inc.host_name else "")
        server = " / ".join(x for x in (inc.server_domain, inc.server_ip) if x)
        table.add_row(
            inc.id,
            f"[{SEV_STYLE.get(inc.severity, '')}]{inc.severity}[/]",
            f"{inc.score:.2f}",
            host,
            server,
            inc.start.strftime("%Y-%m-%d %H:%M"),
            inc.end.strftime("%Y-%m-%d %H:%M"),
            ", ".join(inc.kinds),
            _mb(inc.bytes_out),
            inc.status,
        )
    console.print(table)


@app.command()
def incidents(
    workspace: WorkspaceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    min_severity: Annotated[str, typer.Option(help="Hide incidents below this severity.")] = "low",
) -> None:
    """List incidents, highest score first."""
    ws = open_workspace(workspace)
    store = Store.for_workspace(ws)
    order = ["low", "medium", "high", "critical"]
    if min_severity not in order:
        raise LeaktraceError(f"--min-severity must be one of {', '.join(order)}")
    rows = [i for i in store.incidents(ws.tenant) if order.index(i.severity) >= order.index(min_severity)]
    if as_json:
        data = [incident_json(i, store.findings(incident=i.id)) for i in rows]
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    _print_incidents(rows)


@app.command()
def show(
    incident_id: str, workspace: WorkspaceOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """A readable summary of one incident, with its score explained and a timeline."""
    ws = open_workspace(workspace)
    store = Store.for_workspace(ws)
    inc = store.incident(incident_id)
    findings = store.findings(incident=inc.id)
    if as_json:
        typer.echo(json.dumps(incident_json(inc, findings), indent=2, ensure_ascii=False, default=str))
        return
    style = SEV_STYLE.get(inc.severity, "")
    console.print(
        f"[bold]{inc.id}[/]  [{style}]{inc.severity.upper()}[/] (score {inc.score:.2f})  status: "
        f"{inc.status}" + (f"  verdict: {inc.verdict}" if inc.verdict else "")
    )
    console.print(f"host    {inc.host_ip}" + (f" ({inc.host_name})" if inc.host_name else ""))
    console.print(f"server  {' / '.join(x for x in (inc.server_domain, inc.server_ip) if x)}")
    console.print(f"span    {inc.start:%Y-%m-%d %H:%M:%S} → {inc.end:%Y-%m-%d %H:%M:%S} UTC")
    console.print(f"volume  {_mb(inc.bytes_out)} out, {_mb(inc.bytes_in)} in;  kinds: {', '.join(inc.kinds)}")
    console.print("\n[bold]Why this score[/]")
    for e in inc.explanation:
        if "rule" in e:
            console.print(f"  rule {e['rule']}: score raised to at least {e['floor']}")
        else:
            console.print(
                f"  {e['kind']:16} {e['finding_score']:.2f} × {e['weight']:.2f} = "
                f"{e['contribution']:.2f}  {e.get('summary', '')}"
            )
    console.print("\n[bold]Timeline[/]")
    events = []
    for f in findings:
        events.append((f.first_ts, f"{f.kind:16} {f.severity:8} {f.summary}"))
        if f.last_ts != f.first_ts:
            events.append((f.last_ts, f"{f.kind:16} (last seen)"))
    for h in store.history(inc.id):
        events.append(
            (
                h.at if h.at.tzinfo else h.at.replace(tzinfo=inc.start.tzinfo),
                f"status {h.old} → {h.new} {h.note}",
            )
        )
    for ts, text in sorted(events, key=lambda e: e[0]):
        console.print(f"  {ts:%Y-%m-%d %H:%M:%S}  {text}", highlight=False)
    console.print("\n[bold]Evidence[/]")
    for f in findings:
        keys = {k: v for k, v in f.evidence.items() if not isinstance(v, dict | list)}
        console.print(
            f"  [{f.detector}] " + ", ".join(f"{k}={v}" for k, v in list(keys.items())[:12]), highlight=False
        )
        if f.uids:
            console.print(f"      records: {', '.join(f.uids[:8])}" + (" …" if len(f.uids) > 8 else ""))


@app.command()
def feedback(
    incident_id: str,
    verdict: Annotated[str, typer.Argument(help="benign | malicious")],
    workspace: WorkspaceOpt = None,
    note: Annotated[str, typer.Option(help="Why.")] = "",
    scope: Annotated[
        str, typer.Option(help="benign look-alikes: 'server' (any detector) or 'detector'.")
    ] = "server",
) -> None:
    """Analyst verdict. Benign suppresses look-alikes in later runs; malicious adds the server as an indicator."""
    ws = open_workspace(workspace)
    store = Store.for_workspace(ws)
    row = store.feedback(incident_id, verdict, note, scope)
    from leaktrace.incidents.analyze import incident_params

    store.regroup(ws.tenant, incident_params(ws))
    console.print(
        f"{row.incident_id}: recorded {verdict} (scope {row.scope}, server "
        f"{row.server_domain or row.server_ip})"
    )


@app.command()
def status(
    incident_id: str,
    new_status: Annotated[str, typer.Argument(help=" → ".join(LIFECYCLE))],
    workspace: WorkspaceOpt = None,
    note: Annotated[str, typer.Option(help="Recorded with the change.")] = "",
) -> None:
    """Move an incident along its lifecycle."""
    ws = open_workspace(workspace)
    inc = Store.for_workspace(ws).set_status(incident_id, new_status, note)
    console.print(f"{inc.id}: {inc.status}")


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    from leaktrace.detect.base import to_dt

    try:
        return to_dt(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise LeaktraceError(f"not an ISO time: '{value}'") from None


@app.command()
def tip(
    server: Annotated[str, typer.Option("--server", help="External server named in the tip (IP or domain).")],
    workspace: WorkspaceOpt = None,
    host: Annotated[str | None, typer.Option("--host", help="Internal host named in the tip.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO time.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO time.")] = None,
    note: Annotated[str, typer.Option(help="Who called, what they said.")] = "",
) -> None:
    """Open an incident from an external notification and pivot on the server."""
    from leaktrace.incidents.tip import tip as run_tip

    ws = open_workspace(workspace)
    rep = run_tip(ws, server, host, _when(since), _when(until), note=note)
    console.print(f"server {server}: IPs {', '.join(rep.ips) or '-'}; names {', '.join(rep.domains) or '-'}")
    if not rep.hosts:
        console.print("no internal host talked to it in the stored data")
        return
    for h in rep.hosts:
        console.print(
            f"\n[bold]{h.host}[/]" + (f" ({h.name})" if h.name else "") + f"  → {h.incident or '-'}"
        )
        console.print(
            f"  {h.first:%Y-%m-%d %H:%M:%S} → {h.last:%Y-%m-%d %H:%M:%S}  {h.conns} records, "
            f"{_mb(h.bytes_out)} out, {_mb(h.bytes_in)} in  (via {', '.join(h.via)})"
        )
        for o in h.around:
            console.print(f"    around it: {o['dst_ip']:40} {o['conns']:6} conns  {_mb(o['bytes_out'])} out")


@intel_app.command("add")
def intel_add(file: Path, workspace: WorkspaceOpt = None) -> None:
    """Load indicators (STIX 2.1 bundle, MISP event JSON, CSV or plain list) and hunt through all history."""
    from leaktrace.intel.hunt import add_and_hunt

    ws = open_workspace(workspace)
    res = add_and_hunt(ws, file)
    console.print(
        f"{file.name}: {res.loaded} indicators ({res.added} new); {res.findings} matches in history"
    )
    hits = [i for i in res.incidents if "indicator" in i.kinds]
    if hits:
        _print_incidents(hits)


@app.command()
def detectors() -> None:
    """List detectors and their parameters (set them in leaktrace.toml under [detect.<name>])."""
    for name, cls in detector_registry.items():
        console.print(f"\n[bold]{name}[/] ({cls.kind}): {(cls.__doc__ or '').strip()}")
        for field_name, info in cls.Params.model_fields.items():
            console.print(
                f"  {field_name:26} = {info.default!r:24} {info.description or ''}", highlight=False
            )
    from leaktrace.incidents.scoring import IncidentParams

    console.print("\n[bold]incidents[/]: grouping and scoring of findings into incidents")
    for field_name, info in IncidentParams.model_fields.items():
        console.print(f"  {field_name:26} = {info.default!r:24} {info.description or ''}", highlight=False)


def demo_stage(ws: Any, sim_dir: Path, truth: dict[str, Any]) -> None:
    """`leaktrace demo`: analyse the simulated day and show the incidents, the leak on top."""
    console.rule("3. analyse: detectors → incidents")
    res = run_analysis(ws)
    console.print(f"{res.findings} findings, {len(res.incidents)} incidents in {res.seconds:.1f} s")
    _print_incidents(res.incidents[:8])
    if res.incidents:
        top = res.incidents[0]
        hit = top.host_ip == truth.get("compromised_host", {}).get("ip")
        console.print(
            f"top incident {top.id}: {top.host_ip} → {top.server_domain or top.server_ip} "
            f"({top.severity}); ground truth compromised host: "
            f"{truth.get('compromised_host', {}).get('ip')} ({'match' if hit else 'MISMATCH'})"
        )
