"""The one place reports do I/O: gather an incident, its findings, attribution, actions, flows and hashes into a
:class:`ReportData`. Parts that are missing (no inventory, no lake, no actions) leave a note, not an error."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leaktrace.errors import LeaktraceError
from leaktrace.investigate.model import Attribution
from leaktrace.report.chartdata import chart_data
from leaktrace.report.evidence import record_files
from leaktrace.report.model import (
    ActionSummary,
    EvidenceItem,
    FindingSummary,
    IncidentSummary,
    Records,
    ReportData,
    StatusChange,
)
from leaktrace.report.records import sha256
from leaktrace.report.settings import ReportSettings
from leaktrace.workspace import Workspace

FLOW_COLUMNS = ["ts", "uid", "src_ip", "src_port", "dst_ip", "dst_port", "proto", "app", "duration", "bytes_out",
                "bytes_in", "pkts_out", "pkts_in", "state", "sensor", "source_file", "source_line"]
FINDING_COLUMNS = ["key", "detector", "kind", "tenant", "src_ip", "dst_ip", "dst_domain", "first_ts", "last_ts",
                   "score", "severity", "bytes_out", "bytes_in", "conn_count", "summary", "evidence", "uids"]
MARGIN = timedelta(minutes=5)
MAX_HASH_BYTES = 4 << 30


def _aware(dt: datetime | None) -> datetime | None:
    return None if dt is None else (dt if dt.tzinfo else dt.replace(tzinfo=UTC))


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _attribution(ws: Workspace, inc: Any, notes: list[str]) -> Attribution | None:
    from leaktrace.investigate import attribute
    from leaktrace.investigate.loader import inventory_refs, load_case

    try:
        case = load_case(ws, inc.host_ip, [inc.server_ip] if inc.server_ip else [],
                         [inc.server_domain] if inc.server_domain else [], inc.start, inc.end, tenant=inc.tenant)
        return attribute(case, inventory_refs(ws, inc.tenant))
    except LeaktraceError as exc:
        notes.append(f"attribution not available: {exc}")
        return None


def _actions(ws: Workspace, inc: Any) -> list[ActionSummary]:
    from leaktrace.respond.store import ActionStore

    store = ActionStore.for_workspace(ws)
    rows = {r.id: r for r in store.actions(incident_id=inc.id)}
    for value in (inc.server_ip, inc.server_domain, inc.host_ip):
        if value:
            rows.update({r.id: r for r in store.actions(target=value)})
    return [
        ActionSummary(id=r.public_id, kind=r.kind, target=r.target, target_kind=r.target_kind, status=r.status,
                      backends=r.backends, rule_text=r.rule_text, reason=r.reason, requested_by=r.requested_by,
                      approved_by=r.approved_by, created=r.created, expires=r.expires, removed=r.removed)
        for _, r in sorted(rows.items())
    ]


def _flows(ws: Workspace, inc: Any, servers: list[str], limit: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Flows host -> servers in the incident's span, and the JA3 of the host's TLS to them."""
    from leaktrace.engine import Engine
    from leaktrace.lake import Lake

    if not servers:
        return [], []
    eng = Engine.for_lake(Lake(ws.lake_dir), tenant=inc.tenant)
    lo, hi = inc.start - MARGIN, inc.end + MARGIN
    conn = eng.table("conn")
    expr = conn.filter((conn.src_ip == inc.host_ip) & conn.dst_ip.isin(servers) & (conn.ts >= lo) & (conn.ts <= hi))
    cols = [c for c in FLOW_COLUMNS if c in conn.columns]
    flows = expr.select(cols).order_by("ts").limit(limit).to_pyarrow().to_pylist()
    tls = eng.table("tls")
    t = tls.filter((tls.src_ip == inc.host_ip) & tls.dst_ip.isin(servers) & tls.ja3.notnull() & (tls.ja3 != ""))
    ja3 = sorted({r["ja3"] for r in t.select("ja3").distinct().to_pyarrow().to_pylist()})
    return flows, ja3


def _finding_records(rows: list[Any]) -> list[dict[str, Any]]:
    return [{c: getattr(r, c, None) for c in FINDING_COLUMNS} for r in rows]


def _evidence(data: ReportData, hash_sources: bool = True) -> list[EvidenceItem]:
    rows = {"records/findings.csv": len(data.records.findings), "records/flows.csv": len(data.records.flows)}
    files = record_files(data)
    items = [EvidenceItem(kind="record-set", name=name, sha256=sha256(files[name]), size=len(files[name]),
                          detail=f"{n} rows") for name, n in rows.items()]
    sources: dict[str, int] = {}
    for f in data.records.flows:
        if f.get("source_file"):
            sources[f["source_file"]] = sources.get(f["source_file"], 0) + 1
    for e in data.attribution.timeline if data.attribution else []:
        if e.record:
            src = e.record.rsplit(":", 1)[0]
            sources.setdefault(src, 0)
    for src, n in sorted(sources.items()):
        p = Path(src)
        if not hash_sources:
            items.append(EvidenceItem(kind="source-file", name=src, detail="not hashed for this view"))
        elif p.is_file() and p.stat().st_size <= MAX_HASH_BYTES:
            items.append(EvidenceItem(kind="source-file", name=src, sha256=file_sha256(p), size=p.stat().st_size,
                                      detail=f"{n} flows" if n else ""))
        else:
            items.append(EvidenceItem(kind="source-file", name=src, detail="not available for hashing"))
    for d in data.attribution.taken() if data.attribution else []:
        items.append(EvidenceItem(kind="document", name=d.inventory_path or d.path, sha256=d.sha256, size=d.size,
                                  detail=f"{d.level or '-'}; confidence {d.confidence:.2f}"))
    return items


def build_report_data(ws: Workspace, incident_id: str, *, settings: ReportSettings | None = None,
                      now: datetime | None = None, attribution: bool = True,
                      flow_limit: int = 200_000, hash_sources: bool = True) -> ReportData:
    """Everything the reports of ``incident_id`` say (the only function of the report package doing I/O).
    ``hash_sources=False`` skips hashing the raw source files (for screens; reports and evidence keep it)."""
    from leaktrace.incidents.store import Store

    settings = settings or getattr(ws.config, "report", None) or ReportSettings()
    store = Store.for_workspace(ws)
    inc = store.incident(incident_id)
    findings = store.findings(incident=inc.id)
    notes: list[str] = []
    users = {h.ip: h.user for h in ws.config.assets.hosts if h.user}
    summary = IncidentSummary(
        id=inc.id, tenant=inc.tenant, host_ip=inc.host_ip, host_name=inc.host_name, host_user=users.get(inc.host_ip),
        server_ip=inc.server_ip, server_domain=inc.server_domain, start=inc.start, end=inc.end, score=inc.score,
        severity=inc.severity, kinds=list(inc.kinds or []), bytes_out=inc.bytes_out, bytes_in=inc.bytes_in,
        status=inc.status, origin=inc.origin, explanation=list(inc.explanation or []),
        history=[StatusChange(at=_aware(h.at), old=h.old, new=h.new, note=h.note, actor=h.actor)
                 for h in store.history(inc.id)],
    )
    servers = sorted({x for x in [inc.server_ip, *(f.dst_ip for f in findings)] if x})
    flows, ja3 = _flows(ws, inc, servers, flow_limit)
    if len(flows) >= flow_limit:
        notes.append(f"flows capped at {flow_limit:,} rows")
    ja3 = sorted(set(ja3) | {str(f.evidence["client_ja3"]) for f in findings if f.evidence.get("client_ja3")})
    tenant_cfg = next((t for t in ws.config.tenants if t.name == inc.tenant), None)
    data = ReportData(
        generated_at=now or datetime.now(UTC),
        tenant=inc.tenant,
        organisation=settings.organisation or (tenant_cfg.display_name if tenant_cfg else None) or inc.tenant,
        contact=settings.contact,
        tlp=settings.tlp,
        internal_networks=list(ws.config.internal_networks(inc.tenant)),
        incident=summary,
        findings=[FindingSummary(detector=f.detector, kind=f.kind, dst_ip=f.dst_ip, dst_domain=f.dst_domain,
                                 first_ts=f.first_ts, last_ts=f.last_ts, score=f.score, severity=f.severity,
                                 bytes_out=f.bytes_out, bytes_in=f.bytes_in, conn_count=f.conn_count,
                                 summary=f.summary, evidence=dict(f.evidence or {})) for f in findings],
        attribution=_attribution(ws, inc, notes) if attribution else None,
        actions=_actions(ws, inc),
        charts=chart_data(flows, inc.start, inc.end),
        ja3=ja3,
        notes=notes,
        records=Records(findings=_finding_records(findings), flows=flows),
    )
    data.evidence = _evidence(data, hash_sources)
    return data
