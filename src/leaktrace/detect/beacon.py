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
  ``rare_signature_max_dsts`` destinations in all the data (JA3: external destinations of outbound flows, as
  RITA sees only those);
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

Execution: the engine counts records per pair and keeps the eligible pairs, then collects their timestamps
and sizes in one grouped aggregation (in host batches of at most ``batch_rows`` records, to bound memory);
all pairs of a batch are scored at once over flat numpy arrays (:func:`leaktrace.detect.rita.batch_scores`,
equal value for value to the per-pair code); record references are read afterwards for the pairs that
scored. On incremental runs only pairs with records since the last run are collected and scored.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import ibis
import numpy as np
import pyarrow as pa
from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding, clamp, to_dt
from leaktrace.detect.common import (
    arg_max,
    host_bucket,
    host_servers,
    outbound_bounds,
    outbound_named,
    prevalence_modifier,
    server_stats,
    since_epoch,
)
from leaktrace.detect.no_dns import IGNORED_PORTS as INFRASTRUCTURE_PORTS
from leaktrace.detect.registry import detectors
from leaktrace.detect.rita import BeaconScores, batch_scores, bucketed, finish_scores


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
    batch_rows: int = Field(
        default=4_000_000,
        ge=10_000,
        description="records scored per batch (bounds memory; not a detection threshold)",
    )


@detectors.register("beacon")
class Beacon:
    """RITA v5 beacon score per host × IP and host × SNI/Host with prevalence/first-seen/signature modifiers."""

    name: ClassVar[str] = "beacon"
    per_host_flows: ClassVar[bool] = True  # per internal host over outbound_named: runs per host bucket
    kind: ClassVar[str] = "beaconing"
    Params: ClassVar[type[Strict]] = BeaconParams

    def run(self, ctx: Context) -> list[Finding]:
        p: BeaconParams = ctx.params_for(self.name, BeaconParams)
        flows = outbound_named(ctx)
        first, last, pop = outbound_bounds(ctx)  # all history, also on incremental runs
        if first is None or last is None:
            return []
        all_min, hi = float(first), float(last) + 1.0
        lo = max(all_min, hi - p.window_hours * 3600)
        recent = flows.filter((flows.epoch >= int(lo)) & ~flows.dst_port.isin(INFRASTRUCTURE_PORTS))
        rare_sigs = self._rare_signature_pairs(ctx, p)
        since = since_epoch(ctx)
        out: list[Finding] = []
        for key in ("dst_ip", "name"):
            part = recent if key == "dst_ip" else recent.filter(recent.name.notnull())
            out.extend(self._score_pairs(ctx, p, part, key, lo, hi, all_min, pop, rare_sigs, since))
        return sorted(out, key=lambda f: -f.score)

    def _score_pairs(
        self,
        ctx: Context,
        p: BeaconParams,
        part: Any,
        key: str,
        lo: float,
        hi: float,
        all_min: float,
        pop: int,
        rare_sigs: dict[str, set[tuple[str, str]]],
        since: int | None,
    ) -> list[Finding]:
        if since is not None:  # incremental: only pairs with records since the last run are re-scored
            touched = part.filter(part.epoch >= since).select("src_ip", key).distinct()
            part = part.semi_join(touched, ["src_ip", key])
        # eligible pairs first (a cheap count per pair: no strobes, enough records, servers not used by most
        # hosts), then one grouped aggregation collecting the timestamps and sizes of those pairs only; the
        # distinct-timestamp count is checked on the scores below
        pairs = part.group_by(["src_ip", key]).aggregate(
            n=part.count(), last=part.epoch.max(), server=part.server.max()
        )
        pairs = pairs.filter((pairs.n >= p.min_connections) & (pairs.n < p.strobe_connections))
        if since is not None:
            pairs = pairs.filter(pairs.last >= since)
        pairs = pairs.join(server_stats(ctx), "server")
        if pop >= p.min_population:
            pairs = pairs.filter(pairs.hosts <= p.max_prevalence * pop)
        eligible = pairs
        pairs = ctx.cached(f"beacon_pairs_{key}", lambda: eligible)  # used by every batch
        size = pairs.aggregate(rows=pairs.n.sum()).to_pyarrow().to_pylist()[0]["rows"] or 0
        batches = max(1, math.ceil(int(size) / p.batch_rows))
        found: list[tuple[dict, BeaconScores, np.ndarray]] = []
        for i in range(batches):  # bounded memory: hosts split into batches by a hash of their address
            part_i, pairs_i = part, pairs
            if batches > 1:
                part_i = part.filter(host_bucket(part.src_ip, batches) == i)
                pairs_i = pairs.filter(host_bucket(pairs.src_ip, batches) == i)
            found.extend(self._score_batch(p, part_i, pairs_i, key, lo, hi))
        # record references of the pairs that scored, one read for all batches
        uids = self._latest_uids(
            part, key, [(r["src_ip"], r[key], float(ts[-p.max_uids :][0])) for r, _, ts in found], p.max_uids
        )
        out: list[Finding] = []
        for r, s, ts in found:
            pair_uids = uids.get((r["src_ip"], r[key]), [])
            f = self._finding(ctx, p, r, s, key, pair_uids, ts, hi, all_min, pop, rare_sigs)
            if f is not None:
                out.append(f)
        return out

    def _score_batch(
        self,
        p: BeaconParams,
        part: Any,
        pairs: Any,
        key: str,
        lo: float,
        hi: float,
    ) -> list[tuple[dict, BeaconScores, np.ndarray]]:
        """Scores of the eligible pairs of one batch: (pair row, scores, sorted timestamps) of those that pass."""
        part = part.semi_join(pairs, ["src_ip", key])
        grouped = part.group_by(["src_ip", key]).aggregate(
            ts=part.t.collect(),
            sizes=part.size.collect(),
            bytes_out=part.bo.sum(),
            bytes_in=part.bi.sum(),
            other=arg_max(part.name if key == "dst_ip" else part.dst_ip, part.bo, part.uid),
        )
        grouped = grouped.join(pairs.select("src_ip", key, "hosts", "server_first"), ["src_ip", key])
        data = grouped.to_pyarrow()
        if data.num_rows == 0:
            return []
        # all pairs scored at once over the flat value arrays (no per-pair numpy calls)
        ts_col = data.column("ts").combine_chunks()
        size_col = data.column("sizes").combine_chunks()
        scores = batch_scores(
            ts_col.flatten().to_numpy(zero_copy_only=False),
            size_col.flatten().to_numpy(zero_copy_only=False),
            ts_col.value_parent_indices().to_numpy(zero_copy_only=False),
            size_col.value_parent_indices().to_numpy(zero_copy_only=False),
            data.num_rows,
            lo,
            hi,
        )
        ts_offsets = ts_col.offsets.to_numpy(zero_copy_only=False)
        ts_offsets = ts_offsets - ts_offsets[0]  # a sliced list array's offsets need not start at 0
        ts_flat = ts_col.flatten().to_numpy(zero_copy_only=False)
        # a vectorised pre-gate with a margin wider than the 3-decimal rounding of the exact gates below
        # (NaN passes, as it does there), so only plausible pairs are finished one by one in Python
        ts_part = (scores.ts_skew_score + scores.ts_mad_score) / 2
        size_part = np.where(scores.size_n >= 3, (scores.size_skew_score + scores.size_mad_score) / 2, 0.0)
        approx = 0.25 * (ts_part + size_part + scores.hist + scores.dur)
        plausible = (
            scores.valid
            & (scores.distinct >= p.min_connections)
            & ~(ts_part < p.min_ts_score - 0.001)
            & ~(approx < p.base_threshold - 0.002)
        )
        passed: list[tuple[int, BeaconScores]] = []
        for i in np.flatnonzero(plausible).tolist():
            s = finish_scores(scores, i, p.min_ts_score)
            if s is None or s.total < p.base_threshold:
                continue
            passed.append((i, s))
        if not passed:
            return []
        rows = data.drop_columns(["ts", "sizes"]).take(pa.array([i for i, _ in passed])).to_pylist()
        return [
            (r, s, np.sort(ts_flat[ts_offsets[i] : ts_offsets[i + 1]]))
            for r, (i, s) in zip(rows, passed, strict=True)
        ]

    @staticmethod
    def _latest_uids(
        part: Any, key: str, pairs: list[tuple[str, str, float]], n: int
    ) -> dict[tuple[str, str], list[str]]:
        """The record references (uids) of the ``n`` latest records of each pair, oldest first. ``pairs`` give
        (host, key, time of the n-th latest record): only records at or after it are read, and only for the
        pairs that became findings (the uids are not collected for every pair)."""
        if not n or not pairs:
            return {}
        wanted = ibis.memtable(
            pa.table(
                {
                    "src_ip": [a for a, _, _ in pairs],
                    key: [b for _, b, _ in pairs],
                    "t_from": [t for _, _, t in pairs],
                }
            )
        )
        sub = part.join(wanted, ["src_ip", key])
        sub = sub.filter(sub.t >= sub.t_from).select("src_ip", key, "t", "uid")
        table = sub.to_pyarrow().sort_by("t")  # sorted in Arrow, read column-wise (no row dictionaries)
        out: dict[tuple[str, str], list[str]] = {}
        cols = (table.column(c).to_pylist() for c in ("src_ip", key, "uid"))
        for a, b, uid in zip(*cols, strict=True):
            out.setdefault((a, b), []).append(uid)
        return {k: v[-n:] for k, v in out.items()}

    def _finding(
        self,
        ctx: Context,
        p: BeaconParams,
        r: dict,
        s: BeaconScores,
        key: str,
        uids: list[str],
        ts: np.ndarray,
        hi: float,
        all_min: float,
        pop: int,
        rare_sigs: dict[str, set[tuple[str, str]]],
    ) -> Finding | None:
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
        """Pairs (by IP and by name) that use a JA3 or user agent seen towards ≤ N destinations.

        JA3: counted over the outbound flows' population facts (all history, also on incremental runs; the
        destinations a client fingerprint reaches outside), the pairs read from this run's flows (on incremental
        runs those of the hosts with new records: the only pairs scored). User agents: the HTTP log (small)."""
        out: dict[str, set[tuple[str, str]]] = {"dst_ip": set(), "name": set()}
        hs = host_servers(ctx)
        hs = hs.filter(hs.ja3.notnull())
        counts = hs.group_by("ja3").aggregate(dsts=hs.dst_ip.nunique())
        rare_ja3 = counts.filter(counts.dsts <= p.rare_signature_max_dsts).select("ja3")
        # from the facts: once per run; a table, so that the engine joins the flows against it (it is small)
        rare_ja3 = ctx.cached("beacon_rare_ja3", lambda: rare_ja3)
        flows = outbound_named(ctx)
        hits = flows.semi_join(rare_ja3, "ja3").select("src_ip", "dst_ip", "name").distinct()
        _add_pairs(out, hits.to_pyarrow().to_pylist())
        # the HTTP log only: once per run, also when the flows are read per host bucket
        ua = ctx.memo("beacon_rare_user_agents", lambda: self._rare_user_agent_pairs(ctx, p))
        out["dst_ip"] |= ua["dst_ip"]
        out["name"] |= ua["name"]
        return out

    @staticmethod
    def _rare_user_agent_pairs(ctx: Context, p: BeaconParams) -> dict[str, set[tuple[str, str]]]:
        http = ctx.engine.table("http")
        t = http.filter(http.user_agent.notnull() & (http.user_agent != "") & (http.user_agent != "-"))
        counts = t.group_by("user_agent").aggregate(dsts=t.dst_ip.nunique())
        rare = counts.filter(counts.dsts <= p.rare_signature_max_dsts)
        hits = t.join(rare, "user_agent").select("src_ip", "dst_ip", name=t.host.lower()).distinct()
        out: dict[str, set[tuple[str, str]]] = {"dst_ip": set(), "name": set()}
        _add_pairs(out, hits.to_pyarrow().to_pylist())
        return out


def _add_pairs(out: dict[str, set[tuple[str, str]]], rows: list[dict[str, Any]]) -> None:
    """(host, destination IP) and (host, name) pairs of ``rows`` into ``out``."""
    for r in rows:
        out["dst_ip"].add((r["src_ip"], r["dst_ip"]))
        if r["name"]:
            out["name"].add((r["src_ip"], r["name"]))
