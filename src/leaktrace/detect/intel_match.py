"""Indicator matches: IPs/CIDRs, domains (and their parents), URLs, file hashes and JA3 in all stored data.

Indicators come in through ``ctx.indicators`` (dicts with ``type``, ``value``, ``confidence``, ``source``);
the caller loads them from the workspace (``leaktrace intel add``). A hit is RITA's threat-intel indicator:
the indicator's confidence (default 0.8, "high") + 0.15 when at least ``big_bytes`` (RITA: 25 MB) went to
the matched server. One finding per (internal host, matched server, indicator).

Where matched: conn (either direction; the internal side is the host), DNS queries and DNS answers, TLS SNI
and JA3, HTTP Host and Host+URI, files on the wire (MD5/SHA-1/SHA-256). Domain indicators match the name and
every sub-domain of it. Indicator lists are passed to the engine as ``IN`` lists, fine up to tens of
thousands of values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import ibis
from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding, aggregated_finding, clamp
from leaktrace.detect.common import epoch, recent_records
from leaktrace.detect.domains import parents
from leaktrace.detect.net import in_networks, is_internal
from leaktrace.detect.registry import detectors


class IntelParams(Strict):
    big_bytes: int = Field(
        default=25_000_000, ge=0, description="bytes to the server for +0.15 (RITA: 25 MB)"
    )
    max_uids: int = Field(default=20, ge=0, description="record references kept per finding")


def _suffix_pred(col: Any, domains: list[str]) -> Any:
    """``col`` equals one of ``domains`` or is a sub-domain of one (checked up to 6 labels up)."""
    name = col.lower().re_replace(r"\.$", "")
    pred = name.isin(domains)
    for k in range(2, 7):
        suffix = name.re_extract(r"((?:[^.]+\.){" + str(k - 1) + r"}[^.]+)$", 1)
        pred = pred | suffix.isin(domains)
    return pred.fill_null(False)


@detectors.register("intel")
class IntelMatch:
    """Stored indicators matched against conn, DNS, TLS, HTTP and files."""

    name: ClassVar[str] = "intel"
    kind: ClassVar[str] = "indicator"
    Params: ClassVar[type[Strict]] = IntelParams

    def run(self, ctx: Context) -> list[Finding]:
        if not ctx.indicators:
            return []
        p: IntelParams = ctx.params_for(self.name, IntelParams)
        by_type: dict[str, dict[str, dict[str, Any]]] = {}
        for item in ctx.indicators:
            by_type.setdefault(item["type"], {})[item["value"]] = item
        hits: dict[tuple[str, str, str], dict[str, Any]] = {}
        for src, server, ind_value, ind_type, r in self._matches(ctx, by_type):
            k = (src, server, ind_value)
            h = hits.setdefault(
                k,
                {
                    "first": r["first"],
                    "last": r["last"],
                    "n": 0,
                    "bytes_out": 0,
                    "bytes_in": 0,
                    "uids": [],
                    "where": set(),
                    "dst_ip": r.get("dst_ip"),
                    "type": ind_type,
                    "domain": r.get("domain"),
                },
            )
            h["first"] = min(h["first"], r["first"])
            h["last"] = max(h["last"], r["last"])
            h["n"] += int(r["n"])
            h["bytes_out"] += int(r.get("bytes_out") or 0)
            h["bytes_in"] += int(r.get("bytes_in") or 0)
            h["uids"].extend(u for u in (r.get("uids") or []) if u)
            h["where"].add(r["where"])
            h["dst_ip"] = h["dst_ip"] or r.get("dst_ip")
            h["domain"] = h["domain"] or r.get("domain")
        out = []
        for (src, _server, value), h in hits.items():
            ind: dict[str, Any] | None = self._lookup(by_type, h["type"], value)
            conf = float(ind.get("confidence", 0.8) if ind else 0.8)
            bonus = 0.15 if h["bytes_out"] >= p.big_bytes else 0.0
            out.append(
                aggregated_finding(
                    self, ctx, h,
                    src_ip=src,
                    dst_ip=h["dst_ip"],
                    dst_domain=h["domain"],
                    score=clamp(conf + bonus),
                    bytes_out=h["bytes_out"],
                    bytes_in=h["bytes_in"],
                    summary=f"{h['type']} indicator {value} matched in {', '.join(sorted(h['where']))}",
                    evidence={
                        "indicator": value,
                        "type": h["type"],
                        "source": (ind or {}).get("source", ""),
                        "description": (ind or {}).get("description", ""),
                        "confidence": conf,
                        "volume_bonus": bonus,
                        "matched_in": sorted(h["where"]),
                    },
                    uids=sorted(set(h["uids"]))[: p.max_uids],
                    window=value,
                )
            )
        return out

    @staticmethod
    def _lookup(
        by_type: dict[str, dict[str, dict[str, Any]]], kind: str, value: str
    ) -> dict[str, Any] | None:
        return by_type.get(kind, {}).get(value)

    def _matches(self, ctx: Context, by_type: dict[str, dict[str, dict[str, Any]]]) -> Iterator[tuple]:
        def recent(t: Any) -> Any:
            return recent_records(ctx, t)

        def rows(expr: Any) -> list[dict[str, Any]]:
            return expr.to_pyarrow().to_pylist()

        ips = list(by_type.get("ip", {}))
        cidrs = list(by_type.get("cidr", {}))
        domains = list(by_type.get("domain", {}))
        conn = recent(ctx.engine.table("conn"))
        if ips or cidrs:
            for side, other in (("dst_ip", "src_ip"), ("src_ip", "dst_ip")):
                pred = conn[side].isin(ips) if ips else ibis.literal(False)
                if cidrs:
                    pred = pred | in_networks(conn[side], cidrs)
                m = conn.filter(pred & is_internal(conn[other], ctx.internal))
                m = m.mutate(
                    bo=m.bytes_out.fill_null(0) if side == "dst_ip" else m.bytes_in.fill_null(0),
                    bi=m.bytes_in.fill_null(0) if side == "dst_ip" else m.bytes_out.fill_null(0),
                )
                agg = m.group_by([other, side]).aggregate(
                    first=epoch(m.ts).min(),
                    last=epoch(m.ts).max(),
                    n=m.count(),
                    bytes_out=m.bo.sum(),
                    bytes_in=m.bi.sum(),
                    uids=m.uid.collect(),
                )
                for r in rows(agg):
                    value = r[side]
                    kind = "ip" if value in by_type.get("ip", {}) else "cidr"
                    ind_value = value if kind == "ip" else self._cidr_of(value, cidrs)
                    yield r[other], value, ind_value, kind, {**r, "dst_ip": value, "where": "conn"}
        dns = recent(ctx.engine.table("dns"))
        dns = dns.filter(is_internal(dns.src_ip, ctx.internal))
        if domains:
            m = dns.filter(_suffix_pred(dns.query, domains))
            agg = m.group_by(["src_ip", "query"]).aggregate(
                first=epoch(m.ts).min(), last=epoch(m.ts).max(), n=m.count(), uids=m.uid.collect()
            )
            for r in rows(agg):
                q = (r["query"] or "").lower().strip(".")
                ind_value = next((d for d in parents(q) if d in by_type["domain"]), q)
                yield r["src_ip"], q, ind_value, "domain", {**r, "domain": q, "where": "dns query"}
            for table, col, where in (("tls", "sni", "tls sni"), ("http", "host", "http host")):
                t = recent(ctx.engine.table(table))
                t = t.filter(is_internal(t.src_ip, ctx.internal) & _suffix_pred(t[col], domains))
                agg = t.group_by(["src_ip", "dst_ip", col]).aggregate(
                    first=epoch(t.ts).min(), last=epoch(t.ts).max(), n=t.count(), uids=t.uid.collect()
                )
                for r in rows(agg):
                    name = (r[col] or "").lower().strip(".")
                    ind_value = next((d for d in parents(name) if d in by_type["domain"]), name)
                    yield r["src_ip"], name, ind_value, "domain", {**r, "domain": name, "where": where}
        if ips:
            a = dns.filter(dns.answers.notnull())
            a = a.select("src_ip", "query", "uid", t=epoch(a.ts), ans=a.answers.split(",").unnest())
            a = a.filter(a.ans.strip().isin(ips))
            agg = a.group_by(["src_ip", "query", "ans"]).aggregate(
                first=a.t.min(), last=a.t.max(), n=a.count(), uids=a.uid.collect()
            )
            for r in rows(agg):
                ip = r["ans"].strip()
                yield (
                    r["src_ip"],
                    ip,
                    ip,
                    "ip",
                    {**r, "dst_ip": ip, "domain": r["query"], "where": "dns answer"},
                )
        yield from self._match_simple(ctx, by_type, recent, rows)

    def _match_simple(
        self, ctx: Context, by_type: dict[str, dict[str, dict[str, Any]]], recent: Any, rows: Any
    ) -> Iterator[tuple]:
        ja3 = list(by_type.get("ja3", {})) + list(by_type.get("md5", {}))
        if ja3:
            t = recent(ctx.engine.table("tls"))
            t = t.filter(is_internal(t.src_ip, ctx.internal) & t.ja3.lower().isin(ja3))
            agg = t.group_by(["src_ip", "dst_ip", "sni", "ja3"]).aggregate(
                first=epoch(t.ts).min(), last=epoch(t.ts).max(), n=t.count(), uids=t.uid.collect()
            )
            for r in rows(agg):
                v = r["ja3"].lower()
                kind = "ja3" if v in by_type.get("ja3", {}) else "md5"
                yield (
                    r["src_ip"],
                    r["sni"] or r["dst_ip"],
                    v,
                    kind,
                    {**r, "domain": r["sni"], "where": "tls ja3"},
                )
        urls = list(by_type.get("url", {}))
        if urls:
            h = recent(ctx.engine.table("http"))
            full = h.host.lower().fill_null("").concat(h.uri.fill_null(""))
            h = h.mutate(full=full.re_replace(r"/$", ""))
            h = h.filter(is_internal(h.src_ip, ctx.internal) & h.full.isin(urls))
            agg = h.group_by(["src_ip", "dst_ip", "host", "full"]).aggregate(
                first=epoch(h.ts).min(),
                last=epoch(h.ts).max(),
                n=h.count(),
                bytes_out=h.request_body_len.fill_null(0).sum(),
                uids=h.uid.collect(),
            )
            for r in rows(agg):
                yield (
                    r["src_ip"],
                    r["host"] or r["dst_ip"],
                    r["full"],
                    "url",
                    {**r, "domain": r["host"], "where": "http url"},
                )
        for algo in ("md5", "sha1", "sha256"):
            values = list(by_type.get(algo, {}))
            if not values:
                continue
            f = recent(ctx.engine.table("net_files"))
            f = f.filter(f[algo].lower().isin(values))
            f = f.mutate(
                host=ibis.cases((is_internal(f.src_ip, ctx.internal), f.src_ip), else_=f.dst_ip),
                server=ibis.cases((is_internal(f.src_ip, ctx.internal), f.dst_ip), else_=f.src_ip),
            )
            agg = f.group_by(["host", "server", algo]).aggregate(
                first=epoch(f.ts).min(), last=epoch(f.ts).max(), n=f.count(), uids=f.uid.collect()
            )
            for r in rows(agg):
                yield (
                    r["host"],
                    r["server"],
                    r[algo].lower(),
                    algo,
                    {**r, "dst_ip": r["server"], "where": f"file {algo}"},
                )

    @staticmethod
    def _cidr_of(ip: str, cidrs: list[str]) -> str:
        from leaktrace.detect.net import ip_in

        return next((c for c in cidrs if ip_in(ip, [c])), ip)
