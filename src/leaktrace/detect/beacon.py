"""C2 beaconing, scored as RITA v5 does (see :mod:`leaktrace.detect.rita` and peers.md §3.2-3.3).

Per (internal host, external IP) and per (internal host, server name from TLS SNI / HTTP Host), over the last
``window_hours`` of data: eligible pairs have ≥ 4 distinct timestamps and fewer than 86,400 connections
(more is a strobe). The raw score 0.25·(timing + size + histogram + duration) is bucketed as RITA does
(< 0.5 → nothing; 0.5–0.7 → 0.2–0.4; 0.7–0.9 → 0.4–0.6; ≥ 0.9 → 0.6–0.8) and then modified:

* prevalence: +0.15 if ≤ 2 % of internal hosts talk to the server, −0.15 if ≥ 10 % (RITA: 50 %; a
  targeted intrusion's C2 talks to few hosts, fleet software to many); only with at least
  ``min_population`` hosts, else no modifier;
* first seen: +0.15 if the server first appears within 7 days and the data reach back at least one day
  before it; −0.15 if it has been seen for 30 days or more;
* rare signature: +0.15 if a JA3 or user agent of the pair is used towards at most
  ``rare_signature_max_dsts`` destinations in all the data;
* (RITA's missing-Host-header and MIME/URI-mismatch modifiers are not implemented yet.)

Deviation from RITA: the timing sub-score must reach ``min_ts_score`` (0.6). Random, Poisson-like traffic
at a constant rate (exponential gaps) scores ≈0.74 in RITA because its histogram and duration are perfect;
its timing score is ≈0.55, while a beacon with ±50 % uniform jitter still has ≈0.87.

Infrastructure services (DNS, NTP, DHCP, NetBIOS, mDNS/LLMNR/SSDP ports) are periodic by design and are not
scored; C2 over DNS is the DNS-tunnel detector's job. Prevalence is counted per *server* (the registered
domain of the SNI/Host when known, else the IP), so a CDN-hosted fleet service whose IPs differ per host
still counts as common.

Pairs to servers used by more than ``max_prevalence`` (25 %) of hosts are skipped entirely (mass services such as
OS updates beacon by design; set 1.0 to score everything). Sizes are IP bytes sent by the originator
(RITA's ``src_ip_bytes``), falling back to payload bytes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import ibis
import numpy as np
from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding, clamp, to_dt
from leaktrace.detect.common import epoch_float, outbound_named, prevalence_modifier, since_epoch
from leaktrace.detect.no_dns import IGNORED_PORTS as INFRASTRUCTURE_PORTS
from leaktrace.detect.registry import detectors
from leaktrace.detect.rita import beacon_scores, bucketed


class BeaconParams(Strict):
    window_hours: float = Field(default=24.0, gt=0, description="analyse the last N hours of data (RITA: 24)")
    min_connections: int = Field(default=4, ge=4, description="distinct timestamps needed (RITA: 4)")
    strobe_connections: int = Field(default=86_400, description="at or above: a strobe, not scored as beacon")
    base_threshold: float = Field(
        default=0.5, ge=0, le=1, description="raw score below which nothing is reported"
    )
    min_ts_score: float = Field(
        default=0.6, ge=0, le=1, description="timing sub-score required (not in RITA)"
    )
    min_population: int = Field(
        default=10, ge=1, description="internal hosts needed for prevalence modifiers"
    )
    rare_prevalence: float = Field(default=0.02, ge=0, le=1, description="prevalence for the +0.15 modifier")
    common_prevalence: float = Field(default=0.1, ge=0, le=1, description="prevalence for the −0.15 modifier")
    max_prevalence: float = Field(default=0.25, gt=0, le=1, description="skip servers used by more hosts")
    new_days: float = Field(default=7.0, description="first seen within N days: +0.15")
    old_days: float = Field(default=30.0, description="seen for N days or more: −0.15")
    rare_signature_max_dsts: int = Field(
        default=1, ge=1, description="JA3/UA towards ≤ N destinations is rare"
    )
    max_uids: int = Field(default=20, ge=0, description="record references kept per finding")


@detectors.register("beacon")
class Beacon:
    """RITA v5 beacon score per host × IP and host × SNI/Host with prevalence/first-seen/signature modifiers."""

    name: ClassVar[str] = "beacon"
    kind: ClassVar[str] = "beaconing"
    Params: ClassVar[type[Strict]] = BeaconParams

    def run(self, ctx: Context) -> list[Finding]:
        p: BeaconParams = ctx.params_for(self.name, BeaconParams)
        flows = outbound_named(ctx)
        flows = flows.mutate(
            t=epoch_float(flows.ts),
            size=ibis.coalesce(flows.ip_bytes_out, flows.bytes_out, 0),
        )
        bounds = flows.aggregate(lo=flows.epoch.min(), hi=flows.epoch.max(), pop=flows.src_ip.nunique())
        b = bounds.to_pyarrow().to_pylist()[0]
        if b["hi"] is None:
            return []
        all_min, hi, pop = float(b["lo"]), float(b["hi"]) + 1.0, int(b["pop"])
        lo = max(all_min, hi - p.window_hours * 3600)
        recent = flows.filter((flows.epoch >= int(lo)) & ~flows.dst_port.isin(INFRASTRUCTURE_PORTS))
        rare_sigs = self._rare_signature_pairs(ctx, p)
        since = since_epoch(ctx)
        out: list[Finding] = []
        for key in ("dst_ip", "name"):
            part = recent if key == "dst_ip" else recent.filter(recent.name.notnull())
            out.extend(self._score_pairs(ctx, p, flows, part, key, lo, hi, all_min, pop, rare_sigs, since))
        return sorted(out, key=lambda f: -f.score)

    def _score_pairs(
        self,
        ctx: Context,
        p: BeaconParams,
        flows: Any,
        part: Any,
        key: str,
        lo: float,
        hi: float,
        all_min: float,
        pop: int,
        rare_sigs: dict[str, set[tuple[str, str]]],
        since: int | None,
    ) -> list[Finding]:
        server_stats = flows.group_by("server").aggregate(
            hosts=flows.src_ip.nunique(), server_first=flows.epoch.min()
        )
        pairs = part.group_by(["src_ip", key]).aggregate(
            n=part.count(), n_ts=part.t.nunique(), last=part.epoch.max(), server=part.server.max()
        )
        pairs = pairs.filter((pairs.n_ts >= p.min_connections) & (pairs.n < p.strobe_connections))
        if since is not None:
            pairs = pairs.filter(pairs.last >= since)
        pairs = pairs.join(server_stats, "server")
        if pop >= p.min_population:
            pairs = pairs.filter(pairs.hosts <= p.max_prevalence * pop)
        joined = part.join(pairs.select("src_ip", key, "hosts", "server_first"), ["src_ip", key])
        grouped = joined.group_by(["src_ip", key]).aggregate(
            ts=joined.t.collect(),
            sizes=joined.size.collect(),
            uids=joined.uid.collect(),
            bytes_out=joined.bo.sum(),
            bytes_in=joined.bi.sum(),
            hosts=joined.hosts.max(),
            server_first=joined.server_first.min(),
            other=(joined.name if key == "dst_ip" else joined.dst_ip).argmax(joined.bo),
        )
        out: list[Finding] = []
        for r in grouped.to_pyarrow().to_pylist():
            f = self._finding(ctx, p, r, key, lo, hi, all_min, pop, rare_sigs)
            if f is not None:
                out.append(f)
        return out

    def _finding(
        self,
        ctx: Context,
        p: BeaconParams,
        r: dict,
        key: str,
        lo: float,
        hi: float,
        all_min: float,
        pop: int,
        rare_sigs: dict[str, set[tuple[str, str]]],
    ) -> Finding | None:
        ts = np.asarray(r["ts"], dtype=np.float64)
        order = np.argsort(ts)
        ts = ts[order]
        sizes = np.asarray(r["sizes"], dtype=np.float64)[order]
        s = beacon_scores(ts, sizes, lo, hi, p.min_ts_score)
        if s is None or s.total < p.base_threshold or s.ts < p.min_ts_score:
            return None
        base = bucketed(s.total, p.base_threshold)
        mods: dict[str, float] = {}
        prev = prevalence_modifier(
            int(r["hosts"]), pop, p.min_population, p.rare_prevalence, p.common_prevalence
        )
        if prev:
            mods["prevalence"] = prev
        first = float(r["server_first"])
        age_days = (hi - first) / 86400
        if age_days <= p.new_days and first - all_min >= 86400:
            mods["first_seen"] = 0.15
        elif age_days >= p.old_days:
            mods["first_seen"] = -0.15
        pair = (r["src_ip"], r[key])
        if pair in rare_sigs.get(key, set()):
            mods["rare_signature"] = 0.15
        score = clamp(base + sum(mods.values()))
        if score <= 0:
            return None
        uids = [r["uids"][i] for i in order[-p.max_uids :]] if p.max_uids else []
        dst_ip = r[key] if key == "dst_ip" else r["other"]
        domain = r[key] if key == "name" else r["other"]
        return Finding(
            detector=self.name,
            kind=self.kind,
            tenant=ctx.tenant,
            src_ip=r["src_ip"],
            dst_ip=dst_ip,
            dst_domain=domain,
            first_ts=to_dt(ts[0]),
            last_ts=to_dt(ts[-1]),
            score=score,
            bytes_out=int(r["bytes_out"] or 0),
            bytes_in=int(r["bytes_in"] or 0),
            conn_count=len(ts),
            summary=(
                f"beacon to {r[key]} every ~{s.median_interval:.1f} s ({len(ts)} connections, "
                f"RITA score {s.total:.2f})"
            ),
            evidence={
                "per": "ip" if key == "dst_ip" else "sni",
                **s.as_dict(),
                "bucketed": round(base, 3),
                "modifiers": mods,
                "server_hosts": int(r["hosts"]),
                "population": pop,
            },
            uids=[u for u in uids if u],
            window="ip" if key == "dst_ip" else "sni",
        )

    def _rare_signature_pairs(self, ctx: Context, p: BeaconParams) -> dict[str, set[tuple[str, str]]]:
        """Pairs (by IP and by name) that use a JA3 or user agent seen towards ≤ N destinations."""
        out: dict[str, set[tuple[str, str]]] = {"dst_ip": set(), "name": set()}
        sources = [
            (ctx.engine.table("tls"), "ja3", "sni"),
            (ctx.engine.table("http"), "user_agent", "host"),
        ]
        for table, sig, name_col in sources:
            t = table.filter(table[sig].notnull() & (table[sig] != "") & (table[sig] != "-"))
            counts = t.group_by(sig).aggregate(dsts=t.dst_ip.nunique())
            rare = counts.filter(counts.dsts <= p.rare_signature_max_dsts)
            hits = t.join(rare, sig).select("src_ip", "dst_ip", name=t[name_col].lower()).distinct()
            for r in hits.to_pyarrow().to_pylist():
                out["dst_ip"].add((r["src_ip"], r["dst_ip"]))
                if r["name"]:
                    out["name"].add((r["src_ip"], r["name"]))
        return out
