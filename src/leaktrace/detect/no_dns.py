"""Connections to external IPs that the host never resolved: hard-coded C2 addresses, direct-IP uploads.

A flow from an internal host to an external IP is "without DNS" when no DNS answer listed that IP at or
before the connection, to any client (``scope = "org"``, the default: the host's own look-up may be cached or
made through another resolver) or to that host (``scope = "host"``, as Slips does) (plus ``slack_seconds`` for log-timestamp skew). Hosts whose DNS we cannot
see (fewer than ``min_host_queries`` queries in the data) are skipped, otherwise a sensor that misses DNS
would flag everything. Infrastructure ports (DNS, NTP, DHCP, mDNS/LLMNR/SSDP) and ICMP are ignored.

On its own this is weak evidence (many legitimate apps use literal IPs), so the score stays low:
``base`` + ``rare_bonus`` if few hosts talk to the IP (with enough population) + ``volume_bonus`` if at least
``volume_bytes`` were sent. With at least ``min_population`` hosts, IPs used by more than
``max_prevalence`` of them, or by more than ``max_hosts`` (10) hosts, are skipped: fleet software with
built-in addresses. The cap in hosts keeps the meaning of "few hosts" the same in a large organisation (2 %
of 10,000 hosts would be 200, which is a fleet, not an intrusion; the exfiltration detector's
``common_hosts`` is the same idea); at 500 hosts both limits are 10. It mainly strengthens an incident built from other signals.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding, aggregated_finding, clamp
from leaktrace.detect.common import arg_max, dst_hosts, outbound_named, outbound_population, since_epoch
from leaktrace.detect.dns_facts import first_answers
from leaktrace.detect.registry import detectors

IGNORED_PORTS = [53, 123, 67, 68, 137, 138, 5353, 5355, 1900, 853]


class NoDnsParams(Strict):
    slack_seconds: int = Field(
        default=2, ge=0, description="answer may follow the flow by this much (log skew)"
    )
    min_host_queries: int = Field(
        default=10, ge=1, description="DNS queries a host needs for its DNS to count as seen"
    )
    scope: str = Field(
        default="org",
        pattern="^(org|host)$",
        description="'org': no client ever resolved the IP first; 'host': this host did not (Slips)",
    )
    base: float = Field(default=0.2, ge=0, le=1, description="score of any unresolved external destination")
    rare_bonus: float = Field(default=0.1, ge=0, le=1, description="added when ≤ rare_hosts hosts use the IP")
    rare_hosts: int = Field(default=1, ge=1, description="hosts using the IP for the rarity bonus")
    min_population: int = Field(default=10, ge=1, description="internal hosts needed for the rarity bonus")
    max_prevalence: float = Field(
        default=0.02, gt=0, le=1, description="with enough hosts, skip IPs more hosts than this share use"
    )
    max_hosts: int = Field(
        default=10, ge=1, description="and skip IPs more than this many hosts use, whatever the population"
    )
    volume_bytes: int = Field(default=1_000_000, ge=0, description="bytes out for the volume bonus")
    volume_bonus: float = Field(default=0.1, ge=0, le=1, description="added when volume_bytes were sent")


@detectors.register("no_dns")
class NoDns:
    """Outbound flows to IPs with no preceding DNS answer for that host."""

    name: ClassVar[str] = "no_dns"
    per_host_flows: ClassVar[bool] = True  # per internal host over outbound_named: runs per host bucket
    kind: ClassVar[str] = "no-dns"
    Params: ClassVar[type[Strict]] = NoDnsParams

    def run(self, ctx: Context) -> list[Finding]:
        p: NoDnsParams = ctx.params_for(self.name, NoDnsParams)
        dns = ctx.engine.table("dns")
        seen = dns.group_by("src_ip").aggregate(nq=dns.count())
        seen = seen.filter(seen.nq >= p.min_host_queries).select("src_ip")
        # DNS only: shared by host buckets; a table, so that the engine knows it is small (one row per client)
        seen = ctx.cached("no_dns_clients", lambda: seen)
        resolved = first_answers(ctx, p.scope)  # resolved by anyone in the organisation (caches, proxies, other
        # clients) or, scope "host", by this host
        resolved = resolved.mutate(a=resolved.a.strip())
        resolved = ctx.cached(f"no_dns_resolved_{p.scope}", lambda: resolved)  # DNS only: shared by host buckets
        flows = outbound_named(ctx, with_names=False)
        flows = flows.filter(
            ~flows.dst_port.isin(IGNORED_PORTS) & (flows.proto.lower().fill_null("") != "icmp")
        )
        since = since_epoch(ctx)
        if since is not None:
            flows = flows.filter(flows.epoch >= since)
        # prevalence from the run's population facts: all history and all outbound flows (on incremental runs
        # too, where ``flows`` holds only the new records)
        pop = outbound_population(ctx)
        hosts = dst_hosts(ctx)
        flows = flows.semi_join(seen, "src_ip")
        cond = flows.dst_ip == resolved.a
        if p.scope != "org":
            cond = cond & (flows.src_ip == resolved.src_ip)
        j = flows.left_join(resolved, cond)
        j = j.filter(j.first_resolved.isnull() | (j.first_resolved > j.epoch + p.slack_seconds))
        agg = (
            j.group_by(["src_ip", "dst_ip"])
            .aggregate(
                n=j.count(),
                first=j.epoch.min(),
                last=j.epoch.max(),
                bytes_out=j.bo.sum(),
                bytes_in=j.bi.sum(),
                port=arg_max(j.dst_port, j.bo, j.uid),
                top_uid=arg_max(j.uid, j.bo, j.uid),
            )
            .join(hosts, "dst_ip")
        )
        if pop >= p.min_population:
            agg = agg.filter(agg.hosts <= max(1.0, min(p.max_prevalence * pop, float(p.max_hosts))))
        out = []
        for r in agg.to_pyarrow().to_pylist():
            bonus = {}
            if pop >= p.min_population and int(r["hosts"]) <= p.rare_hosts:
                bonus["rare"] = p.rare_bonus
            if int(r["bytes_out"] or 0) >= p.volume_bytes:
                bonus["volume"] = p.volume_bonus
            score = clamp(p.base + sum(bonus.values()))
            out.append(
                aggregated_finding(
                    self, ctx, r,
                    src_ip=r["src_ip"],
                    dst_ip=r["dst_ip"],
                    score=score,
                    bytes_out=int(r["bytes_out"] or 0),
                    bytes_in=int(r["bytes_in"] or 0),
                    summary=f"{r['n']} connections to {r['dst_ip']}:{r['port']} without a DNS lookup",
                    evidence={
                        "connections": int(r["n"]),
                        "port": r["port"],
                        "base": p.base,
                        "bonus": bonus,
                        "server_hosts": int(r["hosts"]),
                        "population": pop,
                    },
                    uids=[r["top_uid"]] if r["top_uid"] else [],
                )
            )
        return out
