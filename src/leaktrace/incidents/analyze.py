"""``analyze``: run the detectors over the lake, store findings, regroup incidents. Incremental by default.

Incremental approach. The lake manifest records when each Parquet file was committed; a run stores the
highest commit time it has seen (the watermark). The next run looks only at files committed after it and
reads, from their Parquet statistics, the earliest record timestamp they contain (``since``). Detectors get
``since`` in their context:

* per-record detectors (no DNS, archive upload, indicators) read only records at or after ``since``;
* aggregate detectors (exfil volume, beacon, long connection, DNS tunnel) still read the history they need
  (host baselines, the 24 h beacon window) but only aggregate and score the windows and pairs that have
  records at or after ``since``; earlier findings stay stored.
* population facts (which hosts use which server/IP/JA3 and since when: prevalence, first seen, population; which
  clients query which registered domain) are kept as state (:mod:`leaktrace.engine.state`): a full run stores
  them, an incremental run reads them together with the facts of the new records (which it then stores as a
  delta), and reads outbound flows and DNS queries only of the hosts that have new records.

Findings are upserted by a stable key (detector, host, server, window), so a re-scored window replaces its
old finding. When indicators were added since the last run, the indicator detector hunts all history.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow.parquet as pq

from leaktrace.detect.base import Context, Finding
from leaktrace.detect.common import (
    host_servers,
    host_servers_of,
    merge_host_servers,
    outbound_named,
    recent_records,
    use_flows,
)
from leaktrace.detect.dns_facts import (
    dns_pairs,
    dns_pairs_of,
    first_answers,
    first_answers_of,
    merge_dns_pairs,
    merge_first_answers,
    recent_dns_queries,
)
from leaktrace.detect.no_dns import NoDnsParams
from leaktrace.detect.registry import detectors
from leaktrace.engine import Engine
from leaktrace.engine.state import FactsState
from leaktrace.incidents.buckets import BucketParams, FlowBuckets, bucket_count
from leaktrace.incidents.db import IncidentRow, RunRow
from leaktrace.incidents.flow_state import FlowState, window_and_scoped_flows
from leaktrace.incidents.hosts import host_names
from leaktrace.incidents.scoring import IncidentParams
from leaktrace.incidents.store import Store
from leaktrace.lake import Lake
from leaktrace.notify.hook import incidents_before, notify_after_analysis
from leaktrace.workspace import Workspace

NETWORK_TABLES = ["conn", "dns", "http", "tls", "net_files"]
ENDPOINT_TABLES = ["process", "file_event", "endpoint_conn", "win_event"]  # host detectors read these


@dataclass
class AnalysisResult:
    mode: str
    since: datetime | None
    seconds: float
    findings: int
    per_detector: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    incidents: list[IncidentRow] = field(default_factory=list)
    notifications: list[Any] = field(
        default_factory=list
    )  # leaktrace.notify Outcomes (sent/failed/duplicate)


def min_ts(files: list[Any]) -> datetime | None:
    """The earliest ``ts`` in Parquet files, from row-group statistics (no data read)."""
    best: datetime | None = None
    for path in files:
        meta = pq.ParquetFile(path).metadata
        try:
            col = meta.schema.names.index("ts")
        except ValueError:
            continue
        for i in range(meta.num_row_groups):
            stats = meta.row_group(i).column(col).statistics
            if stats is None or not stats.has_min_max:
                return datetime(1970, 1, 1, tzinfo=UTC)
            value = stats.min
            if isinstance(value, datetime):
                value = value if value.tzinfo else value.replace(tzinfo=UTC)
                best = value if best is None or value < best else best
    return best


def make_context(ws: Workspace, engine: Any, tenant: str, store: Store, since: datetime | None) -> Context:
    cfg = ws.config
    params = {name: cfg.detector_params(name, cls.Params) for name, cls in detectors.items()}
    return Context(
        engine=engine,
        tenant=tenant,
        internal=cfg.internal_networks(tenant),
        allow_servers=list(cfg.allowlist.servers),
        allow_hosts=list(cfg.allowlist.hosts),
        since=since,
        indicators=store.indicators(),
        params=params,
    )


def incident_params(ws: Workspace) -> IncidentParams:
    return (
        ws.config.detector_params("incidents", IncidentParams)
        if "incidents" in ws.config.detect
        else IncidentParams()
    )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused: each full collection rescans every live object, and an analysis
    holds hundreds of thousands (findings, rows to store and group), which cost about a third of the regrouping.
    Nothing in an analysis relies on cycles being collected early; collection resumes afterwards (not forced: a
    full collection at the end cost a second by itself)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def keep_flows(
    state: FlowState,
    mode: str,
    since: datetime | None,
    buckets: FlowBuckets | None,
    window: tuple[Any, int] | None,
) -> None:
    """Keep the named flows for the next incremental run (see flow_state.py): a full run keeps its host buckets
    (written anyway on a large lake), an incremental run its window; a run that added records and keeps
    neither drops the stored flows, which would otherwise miss those records."""
    if mode == "full":
        if buckets is not None:
            state.adopt(buckets.folder)
        else:
            state.clear()
    elif mode == "incremental" and since is not None:
        if window is not None:
            state.append(*window)
        else:
            state.clear()


def save_facts(
    state: FactsState, parts: tuple[Any, Any] | None, whole: Callable[[], Any], merge: Callable[[Any, Any], Any]
) -> None:
    """Store the facts of this run. ``parts`` (stored facts, facts of the new records) on incremental runs that
    read stored facts: the new facts become a delta file, or every ``max_deltas`` runs the base is rewritten
    merged; otherwise all facts of the run (``whole``) become the new base."""
    if parts is None or not state.exists():
        state.save(whole())
    elif state.compact_due():
        state.save(merge(*parts))
    else:
        state.append(parts[1])


def analyze(
    ws: Workspace,
    tenant: str | None = None,
    full: bool = False,
    only: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    engine: Any = None,
) -> AnalysisResult:
    """Run the detectors over the lake (incrementally unless ``full``), store their findings, regroup incidents."""
    with gc_paused():
        return _analyze(ws, tenant, full, only, progress, engine)


def _analyze(
    ws: Workspace,
    tenant: str | None,
    full: bool,
    only: list[str] | None,
    progress: Callable[[str], None] | None,
    engine: Any,
) -> AnalysisResult:
    tenant = tenant or ws.tenant
    started = time.perf_counter()
    store = Store.for_workspace(ws)
    lake = Lake(ws.lake_dir)
    last = None if full else store.last_run(tenant)
    watermark = max((float(s["committed_at"]) for s in lake.sources(tenant)), default=0.0)  # type: ignore[arg-type]
    indicators = store.indicators()
    since: datetime | None = None
    mode = "full"
    if last is not None:
        new_files = [f for t in NETWORK_TABLES + ENDPOINT_TABLES for f in lake.files(t, tenant=tenant, since=last.watermark)]
        mode = "incremental"
        since = min_ts(new_files) if new_files else None
        if not new_files and len(indicators) == last.indicators:
            mode = "unchanged"
    eng = engine or Engine.for_lake(lake, tenant)
    ctx = make_context(ws, eng, tenant, store, since)
    settings = {"internal": ctx.internal, "allow_servers": ctx.allow_servers, "allow_hosts": ctx.allow_hosts}
    facts = FactsState(ws.state_dir, tenant, settings)
    dns_facts = FactsState(
        ws.state_dir,
        tenant,
        {"internal": ctx.internal, "allow_servers": ctx.allow_servers},
        name="dns_pairs",
    )
    scope = ws.config.detector_params("no_dns", NoDnsParams).scope
    answer_facts = FactsState(ws.state_dir, tenant, {"scope": scope}, name="dns_first_answers")
    use_facts = engine is None and mode != "unchanged"  # state only with the lake's own engine
    new_facts: dict[str, tuple[Any, Any]] = {}  # (stored facts, facts of the new records)
    bp = ws.config.detector_params("buckets", BucketParams)  # defaults when the section is absent
    flow_state = FlowState(ws.state_dir, tenant, settings)
    window: tuple[Any, int] | None = None  # flows of the records from a cut on, kept as the next segment
    if use_facts and mode == "incremental" and since is not None:
        stored = facts.load(eng)
        if stored is not None:
            ctx.scoped = True  # outbound flows of hosts with new records only; facts of all history
            if flow_state.exists():  # their history from the stored flows (see flow_state.py)
                cut = int(since.timestamp()) - math.ceil(bp.tls_margin_s)
                recent, scoped = window_and_scoped_flows(ctx, flow_state, cut)
                if use_flows(ctx, lambda: scoped):
                    window = (recent, cut)
            flows = outbound_named(ctx)
            # the second of ``since`` on: records counted again change nothing (readers take distinct counts,
            # minima and maxima)
            new = ctx.cached(
                "host_servers_new", lambda: host_servers_of(flows.filter(flows.epoch >= int(since.timestamp())))
            )
            new_facts["host_servers"] = (stored, new)
            ctx.memo("host_servers", lambda: stored.union(new))  # a view: read by the few queries that need it
        stored_dns = dns_facts.load(eng)
        if stored_dns is not None:
            new_dns = ctx.cached("dns_pairs_new", lambda: dns_pairs_of(ctx, recent_dns_queries(ctx)))
            new_facts["dns_pairs"] = (stored_dns, new_dns)
            ctx.memo("dns_pairs", lambda: stored_dns.union(new_dns))
            ctx.stored.add("dns_pairs")  # DNS history of the clients with new queries only
        stored_answers = answer_facts.load(eng)
        if stored_answers is not None:
            new_answers = ctx.cached(
                "dns_first_answers_new", lambda: first_answers_of(recent_records(ctx, eng.table("dns")), scope)
            )
            new_facts["dns_first_answers"] = (stored_answers, new_answers)
            ctx.cached("dns_first_answers", lambda: merge_first_answers(stored_answers, new_answers))
    names = only or detectors.names()
    result = AnalysisResult(mode=mode, since=since, seconds=0.0, findings=0)
    all_findings: list[Finding] = []
    buckets = None
    if use_facts and mode == "full":  # a large lake: the flow detectors run per host bucket (see buckets.py)
        n = bucket_count(lake.row_counts(tenant).get("conn", 0), bp)
        if n > 1:
            buckets = FlowBuckets(ctx, lake.root.parent / "tmp" / "flow-buckets", n, bp)
            if progress:
                progress("flow buckets")
            buckets.write()
            buckets.prepare_facts()
            first_answers(ctx, scope)  # in the run's context, shared by the buckets and stored at the end
    # each detector's findings are stored by one writer thread while the next detector runs (the engine
    # releases the GIL while it computes); upserts are by key, so a run that fails half-way stores nothing
    # twice and the next run redoes it (the run is recorded only at the end)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leaktrace-findings") as writer:
        writes: list[Future[int]] = []

        def run(name: str, det: Any, dctx: Context) -> None:
            if progress:
                progress(name)
            t0 = time.perf_counter()
            found = det.run(dctx)
            result.timings[name] = round(result.timings.get(name, 0.0) + time.perf_counter() - t0, 3)
            result.per_detector[name] = result.per_detector.get(name, 0) + len(found)
            all_findings.extend(found)
            writes.append(writer.submit(store.upsert_findings, found))

        per_bucket: list[tuple[str, Any]] = []
        if mode != "unchanged":
            for name in names:
                det = detectors.get(name)()
                ctx.since = since
                if name == "intel" and last is not None and len(indicators) != last.indicators:
                    ctx.since = None  # new indicators: hunt back through all history
                elif mode == "incremental" and since is None:
                    continue
                if buckets is not None and getattr(det, "per_host_flows", False):
                    per_bucket.append((name, det))
                    continue
                run(name, det, ctx)
        if buckets is not None:
            try:
                for bctx in buckets.contexts():
                    for name, det in per_bucket:
                        run(name, det, bctx)
            except BaseException:
                buckets.remove()
                raise
        for done in writes:
            done.result()  # a failed write raises here
    stores = (
        (facts, lambda: host_servers(ctx), merge_host_servers),
        (dns_facts, lambda: dns_pairs(ctx), merge_dns_pairs),
        (answer_facts, lambda: first_answers(ctx, scope), merge_first_answers),
    )
    for state, whole, merge in stores:
        if use_facts and (mode == "full" or state.name in new_facts or not state.exists()):
            save_facts(state, new_facts.get(state.name), whole, merge)
    if use_facts:
        keep_flows(flow_state, mode, since, buckets, window)
    touched = None if mode == "full" else {f.src_ip for f in all_findings}
    before = incidents_before(ws, store, tenant)  # None unless [notify] has targets
    result.incidents = store.regroup(tenant, incident_params(ws), host_names(ws, eng), hosts=touched)
    result.findings = len(all_findings)
    result.seconds = round(time.perf_counter() - started, 3)
    store.record_run(
        RunRow(
            tenant=tenant,
            seconds=result.seconds,
            watermark=max(watermark, last.watermark if last else 0),
            since=since,
            indicators=len(indicators),
            findings=len(all_findings),
            mode=mode,
        )
    )
    result.notifications = notify_after_analysis(ws, store, tenant, before)  # failures recorded, never raised
    return result
