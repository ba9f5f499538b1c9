"""Host detectors in the one detector registry: staging, user execution, Office → shell, credential dumping,
and Sigma rules over the endpoint events.

Their findings carry the host's network address as ``src_ip`` and no server; incident grouping attaches them
to the host's incidents that overlap in time (:mod:`leaktrace.incidents.scoring`). Times are the host's
corrected for its clock offset (:mod:`leaktrace.hostdetect.endpoint`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding
from leaktrace.detect.registry import detectors
from leaktrace.hostdetect import rules
from leaktrace.hostdetect.endpoint import EndpointView, load_view
from leaktrace.hostdetect.lake_events import lake_events
from leaktrace.hostdetect.tree import ProcessTree

_VIEW_KEY = "hostdetect:endpoint-view"


def endpoint_view(ctx: Context) -> EndpointView:
    """The endpoint rows of this run, read and clock-corrected once for all host detectors."""
    view: EndpointView = ctx.memo(_VIEW_KEY, lambda: load_view(ctx.engine, ctx.internal, ctx.since))
    return view


def _day(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d")


_TREE_KEY = "hostdetect:process-tree"


def process_tree(ctx: Context, view: EndpointView) -> ProcessTree:
    tree: ProcessTree = ctx.memo(_TREE_KEY, lambda: ProcessTree(view.process, view.endpoint_conn, ctx.internal))
    return tree


def to_finding(hit: rules.HostHit, detector: str, kind: str, ctx: Context, view: EndpointView) -> Finding:
    """The hit as a finding of its host; when its processes (with ancestors and descendants) talked to external
    servers, the one they talked to most is the finding's server, so it joins that server's incident."""
    offset = view.offsets.get(hit.host)
    evidence = {**hit.evidence, "host": hit.host, "technique": hit.technique, "records": hit.records[:10]}
    if offset is not None:
        evidence["clock_offset_s"] = offset.offset_seconds
    servers = process_tree(ctx, view).servers_of(hit.procs) if hit.procs else None
    src_ip = view.ip_of(hit.host)
    dst_ip = None
    if servers:
        evidence["servers"] = [f"{ip} ({n} connections)" for ip, n in servers.most_common(10)]
        dst_ip = servers.most_common(1)[0][0]
        if len(servers) > 1:
            dst_ip = _receiving_server(ctx, src_ip, list(servers), hit) or dst_ip
    return Finding(
        detector=detector, kind=kind, tenant=ctx.tenant, src_ip=src_ip, dst_ip=dst_ip,
        first_ts=hit.first_ts, last_ts=hit.last_ts, score=hit.score, summary=hit.summary,
        evidence=evidence, uids=hit.records[:20], window=f"{hit.key}|{_day(hit.first_ts)}",
    )


AFTER = timedelta(days=1)


def _receiving_server(ctx: Context, src_ip: str, servers: list[str], hit: rules.HostHit) -> str | None:
    """Of the servers the processes talked to, the one the host sent the most bytes to from the behaviour's
    start until a day after it (the C2 gets many small beacons; staged data goes where the bytes go)."""
    conn = ctx.engine.table("conn")
    near = conn.filter((conn.src_ip == src_ip) & conn.dst_ip.isin(servers) & (conn.ts >= hit.first_ts)
                       & (conn.ts <= hit.last_ts + AFTER))
    sent = near.group_by("dst_ip").aggregate(out=near.bytes_out.fill_null(0).sum(), n=near.count())
    rows = sent.to_pyarrow().to_pylist()
    if not rows:
        return None
    best = max(rows, key=lambda r: (int(r["out"] or 0), int(r["n"] or 0)))
    return str(best["dst_ip"]) if int(best["out"] or 0) > 0 else None


def _allowed(ctx: Context, finding: Finding) -> bool:
    import ipaddress

    for entry in ctx.allow_hosts:
        try:
            if ipaddress.ip_address(finding.src_ip) in ipaddress.ip_network(entry, strict=False):
                return False
        except ValueError:
            continue
    return True


class _HostDetector:
    name: ClassVar[str]
    kind: ClassVar[str]

    def hits(self, view: EndpointView, p: Any) -> list[rules.HostHit]:
        raise NotImplementedError

    def run(self, ctx: Context) -> list[Finding]:
        p = ctx.params_for(self.name, self.Params)  # type: ignore[attr-defined]
        view = endpoint_view(ctx)
        found = [to_finding(h, self.name, self.kind, ctx, view) for h in self.hits(view, p)]
        return [f for f in found if _allowed(ctx, f)]


@detectors.register("staging")
class StagingDetector(_HostDetector):
    """Many documents read by one process tree, then an archive written (data staged for exfiltration)."""

    name = "staging"
    kind = "staging"

    class Params(Strict):
        min_documents: int = Field(default=5, ge=1, description="distinct documents read before the archive")
        window_minutes: float = Field(default=120, gt=0, description="last read to archive write, at most")
        base_score: float = Field(default=0.45, ge=0, le=1, description="score at min_documents")
        per_document: float = Field(default=0.01, ge=0, le=1, description="added per further document")
        max_score: float = Field(default=0.7, ge=0, le=1)

    def hits(self, view: EndpointView, p: Any) -> list[rules.HostHit]:
        return rules.staging(view.file_event, view.process, min_documents=p.min_documents,
                             window=timedelta(minutes=p.window_minutes), base_score=p.base_score,
                             per_document=p.per_document, max_score=p.max_score)


@detectors.register("user_execution")
class UserExecutionDetector(_HostDetector):
    """A program run from a mail attachment folder, Downloads or Temp."""

    name = "user_execution"
    kind = "user-execution"

    class Params(Strict):
        attachment_score: float = Field(default=0.55, ge=0, le=1, description="started from mail")
        download_score: float = Field(default=0.4, ge=0, le=1, description="started from Downloads/Temp")

    def hits(self, view: EndpointView, p: Any) -> list[rules.HostHit]:
        return rules.user_execution(view.process, attachment_score=p.attachment_score,
                                    download_score=p.download_score)


@detectors.register("office_shell")
class OfficeShellDetector(_HostDetector):
    """Office, a PDF reader or a browser starting a shell or script host."""

    name = "office_shell"
    kind = "office-shell"

    class Params(Strict):
        office_score: float = Field(default=0.65, ge=0, le=1, description="parent is Office or a PDF reader")
        browser_score: float = Field(default=0.5, ge=0, le=1, description="parent is a browser")

    def hits(self, view: EndpointView, p: Any) -> list[rules.HostHit]:
        return rules.office_shell(view.process, office_score=p.office_score, browser_score=p.browser_score)


@detectors.register("credential_dumping")
class CredentialDumpingDetector(_HostDetector):
    """LSASS memory read, an LSASS dump file, or a credential-dumping command line."""

    name = "credential_dumping"
    kind = "credential-dumping"

    class Params(Strict):
        tool_score: float = Field(default=0.85, ge=0, le=1, description="dumping tool command line")
        dump_file_score: float = Field(default=0.85, ge=0, le=1, description="LSASS dump file written")
        access_score: float = Field(default=0.7, ge=0, le=1, description="LSASS memory read (Sysmon 10)")
        benign_readers: list[str] = Field(
            default_factory=lambda: ["msmpeng.exe", "csrss.exe", "wininit.exe", "lsm.exe", "mrt.exe",
                                     "svchost.exe"],
            description="images allowed to read LSASS memory (file names, lower case)",
        )

    def hits(self, view: EndpointView, p: Any) -> list[rules.HostHit]:
        return rules.credential_dumping(view.process, view.file_event, view.win_event,
                                        benign_readers=tuple(p.benign_readers), tool_score=p.tool_score,
                                        dump_file_score=p.dump_file_score, access_score=p.access_score)


LEVEL_SCORE = {"informational": 0.1, "low": 0.25, "medium": 0.45, "high": 0.65, "critical": 0.85}


def _acting_process(row: dict[str, Any]) -> str | None:
    """The process a matched row is about: its own, or for a raw event the source process (Sysmon 10 ...)."""
    if row.get("process_guid") or row.get("pid") is not None:
        return rules.proc_key(row)
    data = rules.event_data(row)
    guid = data.get("SourceProcessGUID") or data.get("ProcessGuid")
    return str(guid).strip("{}").lower() if guid else None


@functools.lru_cache(maxsize=8)
def _engine(paths: tuple[str, ...], builtin: bool) -> Any:
    from leaktrace.sigma.engine import SigmaEngine

    return SigmaEngine.from_paths(list(paths), builtin=builtin)


@detectors.register("sigma")
class SigmaDetector(_HostDetector):
    """Sigma rules (the curated built-in set and the user's folders) over the endpoint events in the lake."""

    name = "sigma"
    kind = "sigma"

    class Params(Strict):
        builtin: bool = Field(default=True, description="use leaktrace's curated rule set")
        rule_paths: list[str] = Field(default_factory=list, description="folders or files of further rules")
        min_level: Literal["informational", "low", "medium", "high", "critical"] = Field(
            default="medium", description="rules below this level make no finding")
        exclude: list[str] = Field(default_factory=list, description="rule ids never reported")

    def hits(self, view: EndpointView, p: Any) -> list[rules.HostHit]:
        engine = _engine(tuple(p.rule_paths), p.builtin)
        pairs = list(lake_events({"process": view.process, "file_event": view.file_event,
                                  "endpoint_conn": view.endpoint_conn, "win_event": view.win_event}))
        matches = engine.evaluate([ev for ev, _ in pairs], explain=False)
        floor = LEVEL_SCORE[p.min_level]
        grouped: dict[tuple[str, str], list[tuple[Any, dict[str, Any]]]] = defaultdict(list)
        for m in matches:
            if m.rule_id in p.exclude or LEVEL_SCORE.get(m.level, 0.0) < floor:
                continue
            row = pairs[m.event_index][1]
            grouped[(row.get("host") or "", m.rule_id)].append((m, row))
        out = []
        for (host, rule_id), items in grouped.items():
            m0 = items[0][0]
            ts = [r["ts"] for _, r in items if r.get("ts") is not None]
            if not ts:
                continue
            techniques = m0.attack_techniques
            out.append(rules.HostHit(
                rule="sigma", host=host, first_ts=min(ts), last_ts=max(ts),
                score=LEVEL_SCORE.get(m0.level, 0.25),
                summary=f"Sigma: {m0.title} ({m0.level}, {len(items)} event{'s' if len(items) > 1 else ''})",
                technique=techniques[0] if techniques else "", key=f"sigma|{rule_id}",
                evidence={"rule_id": rule_id, "title": m0.title, "level": m0.level, "count": len(items),
                          "rule_author": m0.author, "techniques": list(techniques)},
                records=[r for r in (rules.ref(row) for _, row in items[:20]) if r],
                procs=sorted({k for _, row in items if (k := _acting_process(row))}),
            ))
        return out
