"""Long connections: total connection time per (internal host, external server), RITA's buckets.

RITA v5 scores the summed duration of a pair at 1 h / 4 h / 8 h / 12 h → 0.2 / 0.4 / 0.6 / 0.8 (Slips flags a
single connection over 1,500 s). We report pairs whose summed duration *or* longest single connection passes
``min_hours`` and interpolate linearly between RITA's buckets, with the prevalence modifier (±0.15) so that
a long session to a service half the organisation keeps open (chat, VPN, push) stays low.

Deviation from RITA: the bucket scores are multiplied by ``scale`` (0.45, so 12 h → 0.36, "low"). On a real
workstation day (CTU-Normal-44) a dozen benign push/websocket channels stay open for hours; on its own a
long connection is weak evidence, and it should raise an incident only together with other signals.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding, aggregated_finding, clamp
from leaktrace.detect.common import (
    arg_max,
    dst_hosts,
    outbound_named,
    outbound_population,
    prevalence_modifier,
    since_epoch,
)
from leaktrace.detect.registry import detectors

BUCKETS = [(1.0, 0.2), (4.0, 0.4), (8.0, 0.6), (12.0, 0.8)]


def duration_score(hours: float) -> float:
    if hours < BUCKETS[0][0]:
        return 0.0
    for (h0, s0), (h1, s1) in zip(BUCKETS, BUCKETS[1:], strict=False):
        if hours < h1:
            return s0 + (s1 - s0) * (hours - h0) / (h1 - h0)
    return BUCKETS[-1][1]


class LongConnParams(Strict):
    min_hours: float = Field(default=1.0, gt=0, description="summed or single duration to report (RITA: 1 h)")
    scale: float = Field(default=0.45, ge=0, le=1, description="multiplier on RITA's 0.2–0.8 bucket scores")
    min_population: int = Field(
        default=10, ge=1, description="internal hosts needed for the prevalence modifier"
    )
    rare_prevalence: float = Field(default=0.02, ge=0, le=1, description="prevalence for +0.15")
    common_prevalence: float = Field(default=0.5, ge=0, le=1, description="prevalence for −0.15")


@detectors.register("long_connection")
class LongConnection:
    """Summed connection time per host × server (RITA buckets 1/4/8/12 h)."""

    name: ClassVar[str] = "long_connection"
    per_host_flows: ClassVar[bool] = True  # per internal host over outbound_named: runs per host bucket
    kind: ClassVar[str] = "long-connection"
    Params: ClassVar[type[Strict]] = LongConnParams

    def run(self, ctx: Context) -> list[Finding]:
        p: LongConnParams = ctx.params_for(self.name, LongConnParams)
        flows = outbound_named(ctx, with_names=False)
        pop = outbound_population(ctx)
        flows = flows.mutate(dur=flows.duration.fill_null(0.0))
        hosts = dst_hosts(ctx)
        since = since_epoch(ctx)
        if since is not None:  # incremental: aggregate only pairs with a connection lasting past ``since``
            touched = flows.filter(flows.epoch + flows.dur >= since).select("src_ip", "dst_ip").distinct()
            flows = flows.semi_join(touched, ["src_ip", "dst_ip"])
        pairs = flows.group_by(["src_ip", "dst_ip"]).aggregate(
            total=flows.dur.sum(),
            longest=flows.dur.max(),
            n=flows.count(),
            first=flows.epoch.min(),
            last=(flows.epoch + flows.dur).max(),
            bytes_out=flows.bo.sum(),
            bytes_in=flows.bi.sum(),
        )
        pairs = pairs.filter(pairs.total >= p.min_hours * 3600).join(hosts, "dst_ip")
        if since is not None:
            pairs = pairs.filter(pairs.last >= since)
        pairs = ctx.cached("long_connection_pairs", lambda: pairs)
        # the longest connection's record reference, for the (few) pairs that qualify only: an arg-max over a
        # string column of every flow cost more than the rest of the aggregation
        top = flows.semi_join(pairs, ["src_ip", "dst_ip"])
        top = top.group_by(["src_ip", "dst_ip"]).aggregate(top_uid=arg_max(top.uid, top.dur, top.uid))
        pairs = pairs.left_join(top, ["src_ip", "dst_ip"]).drop("src_ip_right", "dst_ip_right")
        out = []
        for r in pairs.to_pyarrow().to_pylist():
            hours = float(r["total"]) / 3600
            base = duration_score(hours) * p.scale
            mod = prevalence_modifier(
                int(r["hosts"]), pop, p.min_population, p.rare_prevalence, p.common_prevalence
            )
            score = clamp(base + mod)
            if score <= 0:
                continue
            out.append(
                aggregated_finding(
                    self, ctx, r,
                    src_ip=r["src_ip"],
                    dst_ip=r["dst_ip"],
                    score=score,
                    bytes_out=int(r["bytes_out"] or 0),
                    bytes_in=int(r["bytes_in"] or 0),
                    summary=f"{hours:.1f} h of connections to {r['dst_ip']} (longest {float(r['longest']) / 3600:.1f} h)",
                    evidence={
                        "total_hours": round(hours, 2),
                        "longest_hours": round(float(r["longest"]) / 3600, 2),
                        "bucket_score": round(base, 3),
                        "prevalence_modifier": mod,
                        "server_hosts": int(r["hosts"]),
                        "population": pop,
                    },
                    uids=[r["top_uid"]] if r["top_uid"] else [],
                )
            )
        return out
