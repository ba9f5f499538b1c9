"""Exfiltration volume: bytes sent per (internal host, external server, window), scored against context.

Why not a fixed threshold: peers alert at 100–500 MB (Slips, Splunk, FTD), but twenty office documents are
5–60 MB, so a targeted leak passes under all of them. What makes a small upload suspicious is *where* it goes
and *how unusual* it is for the sender, not its size alone. The score is a product of two explained parts:

``volume`` (0–1): how much, and how unusual for this host
    size      = log10(bytes/min_bytes) / log10(high_bytes/min_bytes), clamped   (0.5 MB → 0, 1.5 MB → 0.37, 5 MB → 0.77, ≥ 10 MB → 1)
    excess    = log10(bytes/host_median), clamped   (host_median = the host's median bytes out per
                window to all external servers; 10× its usual → 1; 0.5 while the host has fewer than
                ``min_baseline_windows`` active windows)
    volume    = size · (1 − w_excess + w_excess · excess)

``context`` (0–1): how little this server is part of normal business
    rarity    = 1 for a server used by one host, falling linearly to 0 at ``common_fraction`` of internal
                hosts, or at ``common_hosts`` (5) hosts if that is fewer (a team's partner server is shared
                business; a targeted leak goes to a server one or two hosts use); 0.5 ("unknown") when fewer than ``min_population`` hosts are seen
    novelty   = 1 − age/new_server_age, where age = window start − first time any host talked to the
                server (a server first seen in the data just before the upload is new)
    asymmetry = (upload share − 0.5)/0.4, clamped   (≥ 90 % of the bytes going out → 1)
    context   = rarity · (1 − w_novelty + w_novelty · novelty) · (1 − w_asym + w_asym · asymmetry)

``client``: when the upload's TLS client fingerprint (JA3) is used by at least ``common_hosts`` internal
hosts (a common browser or office client), context is reduced by ``weight_common_client``: a person using
a browser to send files to a partner looks like that; malware and exfil tools bring rare fingerprints (RITA's
rare-signature idea applied to uploads). No JA3 (plain HTTP, no TLS log): no change.

``score = volume · context · damping``, where damping = min(1, free_fanout / fanout) and fanout is the
number of servers the host sent at least ``min_bytes`` to that day: a mail relay or proxy uploads megabytes
to many rare servers every day, and none of them is unusual *for it*; a compromised PC sends to one. A 15 MB upload to a server only this host uses, first seen today, is ≈0.9
(critical); a 60 MB upload to a service 40 of 500 hosts use has rarity 0 and scores 0 (not reported). The
server is the registered domain of the SNI/HTTP host when known (so a cloud service on many IPs counts as
one), else the IP. Windows: hourly and daily (a slow drip over a day is summed); per (host, server, day)
the best-scoring window is kept.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, ClassVar

import ibis
import pyarrow as pa
from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding, aggregated_finding, clamp
from leaktrace.detect.common import (
    arg_max,
    ja3_hosts,
    outbound_named,
    outbound_population,
    server_stats,
    since_epoch,
)
from leaktrace.detect.registry import detectors


class ExfilParams(Strict):
    windows: list[int] = Field(default=[3600, 86400], description="window lengths in seconds")
    min_bytes: int = Field(
        default=500_000, ge=0, description="bytes out per window below which nothing is scored"
    )
    high_bytes: int = Field(
        default=10_000_000, gt=0, description="bytes out at which the size part saturates"
    )
    weight_excess: float = Field(
        default=0.4, ge=0, le=1, description="share of volume from the host baseline"
    )
    min_baseline_windows: int = Field(default=3, ge=1, description="host windows needed for a baseline")
    min_population: int = Field(default=10, ge=1, description="internal hosts needed to judge prevalence")
    common_fraction: float = Field(
        default=0.02, gt=0, le=1, description="share of internal hosts at which a server counts as common"
    )
    common_hosts: int = Field(
        default=5,
        ge=2,
        description="hosts at which a server is shared business, whatever the organisation size",
    )
    new_server_age_hours: float = Field(default=168.0, gt=0, description="age below which a server is new")
    weight_novelty: float = Field(default=0.3, ge=0, le=1, description="weight of novelty in context")
    weight_asymmetry: float = Field(
        default=0.3, ge=0, le=1, description="weight of upload asymmetry in context"
    )
    free_fanout: int = Field(
        default=3, ge=1, description="servers a host may upload ≥ min_bytes to per day before damping"
    )
    weight_common_client: float = Field(
        default=0.4, ge=0, le=1, description="context reduction when the TLS client (JA3) is common software"
    )
    min_score: float = Field(default=0.2, ge=0, le=1, description="findings below this score are dropped")


def _partials(flows: Any, base: int) -> Any:
    """Per (host, server, window of ``base`` seconds): sums, counts and span. The largest flow of a window (its
    record reference, destination, name and client) is looked up afterwards for the few windows that are scored
    (:func:`_top_flows`): arg-max over string columns of every flow cost more than all the sums together."""
    w = flows.mutate(pw=(flows.epoch / base).floor().cast("int64") * base)
    return w.group_by(["src_ip", "server", "pw"]).aggregate(
        bo=w.bo.sum(),
        bi=w.bi.sum(),
        conns=w.count(),
        first=w.epoch.min(),
        last=w.epoch.max(),
    )


def _top_flows(
    flows: Any, clients: Any, scored: list[dict[str, Any]]
) -> dict[tuple[str, str, int, int], dict[str, Any]]:
    """(host, server, window start, window size) → ``top_uid``, ``dst_ip``, ``name``, ``ja3`` and ``ja3_hosts`` (from
    ``clients``) of the largest flow (by bytes out) of each ``scored`` window: its record by arg-max over the
    window's flows, the rest read from that record. One query."""
    keys = ibis.memtable(
        pa.table(
            {
                "src_ip": [r["src_ip"] for r in scored],
                "server": [r["server"] for r in scored],
                "w_start": [int(r["win"]) for r in scored],
                "w_size": [int(r["size"]) for r in scored],
            },
            schema=pa.schema(
                [("src_ip", pa.string()), ("server", pa.string()), ("w_start", pa.int64()), ("w_size", pa.int64())]
            ),
        )
    )
    inside = flows.join(keys, ["src_ip", "server"])
    inside = inside.filter((inside.epoch >= inside.w_start) & (inside.epoch < inside.w_start + inside.w_size))
    tops = inside.group_by(["src_ip", "server", "w_start", "w_size"]).aggregate(uid=arg_max(inside.uid, inside.bo, inside.uid))
    rec = flows.join(tops, ["src_ip", "server", "uid"])
    rec = rec.group_by(["src_ip", "server", "w_start", "w_size"]).aggregate(
        top_uid=rec.uid.max(), dst_ip=rec.dst_ip.max(), name=rec.name.max(), ja3=rec.ja3.max()
    )
    rec = rec.left_join(clients, "ja3").drop("ja3_right")
    return {
        (r["src_ip"], r["server"], int(r["w_start"]), int(r["w_size"])): r for r in rec.to_pyarrow().to_pylist()
    }


@detectors.register("exfil_volume")
class ExfilVolume:
    """Bytes out per host × server × window against host baseline, server novelty and prevalence."""

    name: ClassVar[str] = "exfil_volume"
    per_host_flows: ClassVar[bool] = True  # per internal host over outbound_named: runs per host bucket
    kind: ClassVar[str] = "exfiltration"
    Params: ClassVar[type[Strict]] = ExfilParams

    def run(self, ctx: Context) -> list[Finding]:
        p: ExfilParams = ctx.params_for(self.name, ExfilParams)
        flows = outbound_named(ctx)
        pop = outbound_population(ctx)
        clients = ja3_hosts(ctx)
        servers = server_stats(ctx)
        best: dict[tuple[str, str, int], Finding] = {}
        since = since_epoch(ctx)
        # one pass over the flows: per (host, server, base window) partial sums; the windows of each size (all
        # multiples of the base) are sums of partials; the largest flow is looked up for scored windows only
        if not p.windows or min(p.windows) <= 0:
            return []
        base = math.gcd(*p.windows)
        parts = ctx.cached(f"exfil_partials_{base}", lambda: _partials(flows, base))
        by_size: list[tuple[int, list[dict[str, Any]]]] = []
        for size in p.windows:
            w = parts.mutate(win=(parts.pw / size).floor().cast("int64") * size)
            host_win = w.group_by(["src_ip", "win"]).aggregate(total=w.bo.sum())
            baseline = host_win.group_by("src_ip").aggregate(
                host_median=host_win.total.median(), host_windows=host_win.count()
            )
            # incremental: only windows that end after ``since`` are aggregated (the baseline uses all)
            recent = w if since is None else w.filter(w.win + size > since)
            if size == base:  # the partials are the windows
                agg = recent.select(
                    "src_ip", "server", "win", "conns", "first", "last", bytes_out=recent.bo, bytes_in=recent.bi
                )
            else:
                agg = recent.group_by(["src_ip", "server", "win"]).aggregate(
                    bytes_out=recent.bo.sum(),
                    bytes_in=recent.bi.sum(),
                    conns=recent.conns.sum(),
                    first=recent.first.min(),
                    last=recent.last.max(),
                )
            agg = agg.filter(agg.bytes_out >= p.min_bytes)
            if since is not None:
                agg = agg.filter(agg.win + size > since)
            agg = agg.join(baseline, "src_ip").join(
                servers.select("server", "hosts", "server_first"), "server"
            )
            by_size.append((size, agg.to_pyarrow().to_pylist()))
        # the largest flow of each scored window: its record, destination, name and client (one lookup)
        scored = [{**r, "size": size} for size, rows in by_size for r in rows]
        if not scored:
            return []
        top = _top_flows(flows, clients, scored)
        for size, rows in by_size:
            fanout: dict[tuple[str, int], set[str]] = {}
            for r in rows:
                fanout.setdefault((r["src_ip"], int(r["win"]) // 86400), set()).add(r["server"])
            for r in rows:
                t = top.get((r["src_ip"], r["server"], int(r["win"]), size), {})
                for col in ("top_uid", "dst_ip", "name", "ja3"):
                    r[col] = t.get(col)
                r["ja3_hosts"] = int(t.get("ja3_hosts") or 0) if r["ja3"] else 0
                r["fanout"] = len(fanout[(r["src_ip"], int(r["win"]) // 86400)])
                f = self._score(ctx, p, r, size, pop)
                if f is None:
                    continue
                day = int(r["win"]) // 86400
                k = (r["src_ip"], r["server"], day)
                if k not in best or best[k].score < f.score:
                    best[k] = f
        return sorted(best.values(), key=lambda f: -f.score)

    def _score(self, ctx: Context, p: ExfilParams, r: dict, size: int, pop: int) -> Finding | None:
        b = float(r["bytes_out"])
        size_part = clamp(
            math.log10(max(b, 1) / max(p.min_bytes, 1)) / math.log10(p.high_bytes / max(p.min_bytes, 1))
        )
        median = max(float(r["host_median"] or 0), 1.0)
        if int(r["host_windows"]) < p.min_baseline_windows:
            excess = 0.5  # no baseline yet: neither usual nor unusual
        else:
            excess = clamp(math.log10(max(b, 1) / median))
        volume = size_part * (1 - p.weight_excess + p.weight_excess * excess)
        hosts = int(r["hosts"])
        if pop < p.min_population:
            rarity = 0.5
        else:
            common = min(max(p.common_fraction * pop, 2.0), float(p.common_hosts))
            rarity = clamp(1 - (hosts - 1) / (common - 1))
        age_h = max(0.0, (int(r["win"]) - int(r["server_first"])) / 3600)
        novelty = clamp(1 - age_h / p.new_server_age_hours)
        total = b + float(r["bytes_in"] or 0)
        up_share = b / total if total else 1.0
        asym = clamp((up_share - 0.5) / 0.4)
        context = (
            rarity
            * (1 - p.weight_novelty + p.weight_novelty * novelty)
            * (1 - p.weight_asymmetry + p.weight_asymmetry * asym)
        )
        damp = min(1.0, p.free_fanout / max(1, int(r.get("fanout", 1))))
        ja3_hosts = int(r.get("ja3_hosts") or 0)
        common_client = pop >= p.min_population and ja3_hosts >= p.common_hosts
        if common_client:
            context *= 1 - p.weight_common_client
        score = clamp(volume * context * damp)
        if score < p.min_score:
            return None
        name = r["name"]
        server = r["server"]
        win_start = datetime.fromtimestamp(int(r["win"]), tz=UTC)
        return aggregated_finding(
            self,
            ctx,
            r,
            src_ip=r["src_ip"],
            dst_ip=r["dst_ip"],
            dst_domain=name or (server if server != r["dst_ip"] else None),
            score=score,
            bytes_out=int(b),
            bytes_in=int(r["bytes_in"] or 0),
            conn_count=int(r["conns"]),
            summary=(
                f"{b / 1e6:.1f} MB sent to {server} in {size // 3600} h "
                f"({hosts} of {pop} hosts use it; upload share {up_share:.0%})"
            ),
            evidence={
                "window_seconds": size,
                "window_start": win_start.isoformat(),
                "bytes_out": int(b),
                "size_part": round(size_part, 3),
                "host_median_bytes": round(median),
                "excess_over_baseline": round(excess, 3),
                "volume": round(volume, 3),
                "server": server,
                "server_hosts": hosts,
                "population": pop,
                "rarity": round(rarity, 3),
                "server_age_hours": round(age_h, 2),
                "novelty": round(novelty, 3),
                "upload_share": round(up_share, 3),
                "asymmetry": round(asym, 3),
                "context": round(context, 3),
                "client_ja3": r.get("ja3"),
                "client_ja3_hosts": ja3_hosts,
                "common_client": common_client,
                "host_upload_fanout": int(r.get("fanout", 1)),
                "fanout_damping": round(damp, 3),
            },
            uids=[r["top_uid"]] if r["top_uid"] else [],
            window=f"{win_start.date().isoformat()}",
        )
