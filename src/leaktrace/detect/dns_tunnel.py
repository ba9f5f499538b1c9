"""DNS tunnelling: per (client, registered domain), the signs that names carry data.

Combines the complementary tests of peers.md §6.7 into one explained score:

* unique names under the registered domain (RITA's C2-over-DNS count; 100/500/800/1000 buckets there):
  ``uniq = log10(unique/10)/2`` clamped (10 names → 0, 100 → 0.5, 1000 → 1);
* long labels (Elastic: subdomain ≥ 50 characters): ``length = (p90 subdomain length − 20)/30`` clamped;
* character entropy of the subdomain text, bits/char (Slips uses ≥ 5 on TXT answers): encoded data is
  ≥ 4 (base32/base64/hex), host names ≈ 3: ``entropy = (H − 3)/1.5`` clamped;
* TXT/NULL/CNAME share of the queries (tunnels need record types that carry payload): ``txt = share/0.5``;
* ``score = 0.35·uniq + 0.25·length + 0.25·entropy + 0.15·txt``, + the prevalence modifier (±0.15) when
  enough clients are seen (a domain every client resolves, such as a CDN, is not a tunnel).

The registered domain uses a small public-suffix table (``co.jp``, ``ac.uk``, …); the finding names the
deepest zone common to all queries (e.g. ``ns.ostrykebs.pl``). ``.arpa`` and ``.local`` are excluded.
"""

from __future__ import annotations

import math
from typing import ClassVar

from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding, aggregated_finding, clamp
from leaktrace.detect.common import prevalence_modifier, since_epoch
from leaktrace.detect.dns_facts import dns_pairs, new_dns_clients, tunnel_queries
from leaktrace.detect.domains import common_zone, shannon_entropy, subdomain
from leaktrace.detect.registry import detectors

PAYLOAD_TYPES = ["TXT", "NULL", "CNAME", "16", "10", "5"]


def tunnel_score(unique: int, p90_sublen: float, entropy: float, txt_share: float) -> dict[str, float]:
    parts = {
        "uniq": clamp(math.log10(max(unique, 1) / 10) / 2),
        "length": clamp((p90_sublen - 20) / 30),
        "entropy": clamp((entropy - 3.0) / 1.5),
        "txt": clamp(txt_share / 0.5),
    }
    parts["score"] = (
        0.35 * parts["uniq"] + 0.25 * parts["length"] + 0.25 * parts["entropy"] + 0.15 * parts["txt"]
    )
    return parts


class DnsTunnelParams(Strict):
    min_unique: int = Field(default=20, ge=1, description="unique names per client × domain to consider")
    min_score: float = Field(default=0.3, ge=0, le=1, description="findings below this score are dropped")
    min_population: int = Field(default=10, ge=1, description="clients needed for the prevalence modifier")
    rare_prevalence: float = Field(default=0.02, ge=0, le=1, description="prevalence for +0.15")
    common_prevalence: float = Field(default=0.2, ge=0, le=1, description="prevalence for −0.15")
    max_names: int = Field(default=2000, ge=10, description="names sampled per candidate for entropy")


@detectors.register("dns_tunnel")
class DnsTunnel:
    """Unique subdomains, long labels, entropy and TXT share per client × registered domain."""

    name: ClassVar[str] = "dns_tunnel"
    kind: ClassVar[str] = "dns-tunnel"
    Params: ClassVar[type[Strict]] = DnsTunnelParams

    def run(self, ctx: Context) -> list[Finding]:
        p: DnsTunnelParams = ctx.params_for(self.name, DnsTunnelParams)
        since = since_epoch(ctx)
        pairs = dns_pairs(ctx)  # all history (preset from state on incremental runs)
        pairs = pairs.filter(pairs.tunnel)
        hosts = new_dns_clients(ctx)
        dns = tunnel_queries(ctx, hosts)
        dns = dns.mutate(
            sublen=dns.q.length() - dns.reg.length() - 1,
            payload=dns.qtype.upper().isin(PAYLOAD_TYPES).fill_null(False).cast("int64"),
        )
        pop = int(pairs.src_ip.nunique().execute() or 0)
        clients = pairs.group_by("reg").aggregate(clients=pairs.src_ip.nunique())
        agg = dns.group_by(["src_ip", "reg"]).aggregate(
            n=dns.count(),
            unique=dns.q.nunique(),
            payload=dns.payload.sum(),
            first=dns.epoch.min(),
            last=dns.epoch.max(),
            max_sub=dns.sublen.max(),
            resolver=dns.dst_ip.max(),
            top_uid=dns.uid.max(),
        )
        agg = agg.filter(agg.unique >= p.min_unique).join(clients, "reg")
        if since is not None:
            agg = agg.filter(agg.last >= since)
        cands = agg.to_pyarrow().to_pylist()
        if not cands:
            return []
        keys = agg.select("src_ip", "reg")
        names = dns.join(keys, ["src_ip", "reg"]).select("src_ip", "reg", "q").distinct()
        by_key: dict[tuple[str, str], list[str]] = {}
        for r in names.to_pyarrow().to_pylist():
            lst = by_key.setdefault((r["src_ip"], r["reg"]), [])
            if len(lst) < p.max_names:
                lst.append(r["q"])
        out = []
        for r in cands:
            qs = by_key.get((r["src_ip"], r["reg"]), [])
            subs = [subdomain(x) for x in qs]
            lens = sorted(len(s) for s in subs)
            p90 = float(lens[int(0.9 * (len(lens) - 1))]) if lens else 0.0
            ent = shannon_entropy("".join(s.replace(".", "") for s in subs))
            share = int(r["payload"]) / max(1, int(r["n"]))
            parts = tunnel_score(int(r["unique"]), p90, ent, share)
            mod = prevalence_modifier(
                int(r["clients"]), pop, p.min_population, p.rare_prevalence, p.common_prevalence
            )
            score = clamp(parts["score"] + mod)
            if score < p.min_score:
                continue
            zone = common_zone(qs) or r["reg"]
            out.append(
                aggregated_finding(
                    self, ctx, r,
                    src_ip=r["src_ip"],
                    dst_ip=None,
                    dst_domain=zone,
                    score=score,
                    summary=(
                        f"{r['unique']} unique names under {zone} ({r['n']} queries, entropy {ent:.1f} bits/char, "
                        f"{share:.0%} TXT/NULL/CNAME)"
                    ),
                    evidence={
                        "registered_domain": r["reg"],
                        "zone": zone,
                        "queries": int(r["n"]),
                        "unique_names": int(r["unique"]),
                        "p90_subdomain_length": p90,
                        "max_subdomain_length": int(r["max_sub"] or 0),
                        "entropy_bits_per_char": round(ent, 3),
                        "payload_type_share": round(share, 3),
                        "resolver": r["resolver"],
                        **{k: round(v, 3) for k, v in parts.items()},
                        "prevalence_modifier": mod,
                        "clients": int(r["clients"]),
                        "population": pop,
                        "examples": qs[:5],
                    },
                    uids=[r["top_uid"]] if r["top_uid"] else [],
                )
            )
        return out
