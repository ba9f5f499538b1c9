"""Executables downloaded from external servers: the first stage of an intrusion (Meterpreter payloads, droppers).

Sources: ``http`` (response mime ``application/x-dosexec``, ``x-msdownload``, ``x-executable``, … or a URI
ending in ``.exe``/``.dll``/``.scr``/``.ps1``/``.hta``/``.msi``/``.vbs``/``.bat``) and ``net_files`` (files the
responder sent, same mime types or extensions), from an external server to an internal host.

Score per (host, server): ``base`` (0.4); + ``ip_host_bonus`` (0.2) when the request named the server by a
literal IP or sent no Host header (RITA adds 0.1 for a missing Host; software vendors serve downloads by
name); + ``rare_bonus`` (0.1) when at most ``rare_hosts`` internal hosts talk to the server (with at least
``min_population`` hosts). Software downloads by name from vendors stay at 0.4 (medium at most in: on its own a download is an ambiguous signal (capped at medium by the incident score).
"""

from __future__ import annotations

from typing import ClassVar

import ibis
from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding, aggregated_finding, clamp
from leaktrace.detect.common import dst_hosts, epoch, outbound_population, recent_records
from leaktrace.detect.net import is_external, is_internal
from leaktrace.detect.registry import detectors

EXEC_MIME = [
    "x-dosexec",
    "x-msdownload",
    "x-executable",
    "x-msdos-program",
    "x-ms-installer",
    "x-msi",
    "vnd.microsoft.portable-executable",
    "x-elf",
    "hta",
]
EXEC_EXT = [".exe", ".dll", ".scr", ".ps1", ".hta", ".msi", ".vbs", ".bat", ".cpl", ".jar"]


class PayloadParams(Strict):
    base: float = Field(default=0.4, ge=0, le=1, description="score of an executable download")
    ip_host_bonus: float = Field(
        default=0.2, ge=0, le=1, description="added for a literal-IP or missing Host"
    )
    rare_bonus: float = Field(default=0.1, ge=0, le=1, description="added when few hosts use the server")
    rare_hosts: int = Field(default=1, ge=1, description="hosts using the server for the rarity bonus")
    min_population: int = Field(default=10, ge=1, description="internal hosts needed for the rarity bonus")


def _exec_pred(mime: ibis.Value, name: ibis.Value) -> ibis.Value:
    low = mime.lower().fill_null("")
    fname = name.lower().fill_null("")
    pred = ibis.literal(False)
    for m in EXEC_MIME:
        pred = pred | low.contains(m)
    for e in EXEC_EXT:
        pred = pred | fname.endswith(e)
    return pred


@detectors.register("payload_download")
class PayloadDownload:
    """Executables (PE, scripts, installers) downloaded from external servers."""

    name: ClassVar[str] = "payload_download"
    kind: ClassVar[str] = "payload-download"
    Params: ClassVar[type[Strict]] = PayloadParams

    def run(self, ctx: Context) -> list[Finding]:
        p: PayloadParams = ctx.params_for(self.name, PayloadParams)
        http = recent_records(ctx, ctx.engine.table("http"))
        uri = http.uri.fill_null("").re_replace(r"\?.*$", "")
        host = http.host.fill_null("")
        ip_host = (host == "") | host.re_search(r"^[0-9.]+(:[0-9]+)?$") | host.contains(":")
        h = http.filter(
            is_internal(http.src_ip, ctx.internal)
            & is_external(http.dst_ip, ctx.internal)
            & _exec_pred(http.resp_mime_types, uri)
        ).select(
            host_ip=http.src_ip,
            server=http.dst_ip,
            epoch=epoch(http.ts),
            uid=http.uid,
            size=http.response_body_len.fill_null(0),
            ip_host=ip_host.cast("int64"),
            name=ibis.cases((ip_host, ibis.null("string")), else_=host.lower()),
            fname=uri.re_extract(r"([^/]*)$", 1),
        )
        f = recent_records(ctx, ctx.engine.table("net_files"))
        f = f.filter(
            ~f.is_orig.fill_null(False)
            & is_external(f.src_ip, ctx.internal)
            & is_internal(f.dst_ip, ctx.internal)
            & _exec_pred(f.mime_type, f.filename)
        ).select(
            host_ip=f.dst_ip,
            server=f.src_ip,
            epoch=epoch(f.ts),
            uid=f.uid,
            size=f.size.fill_null(0),
            ip_host=ibis.literal(0, type="int64"),
            name=ibis.null("string"),
            fname=f.filename,
        )
        rows = h.union(f)
        # prevalence from the run's shared population facts (outbound flows of all history; on incremental
        # runs kept as state), not a scan of every connection
        hosts = dst_hosts(ctx)
        pop = outbound_population(ctx)
        agg = rows.group_by(["host_ip", "server"]).aggregate(
            n=rows.count(),
            first=rows.epoch.min(),
            last=rows.epoch.max(),
            size=rows.size.max(),
            ip_host=rows.ip_host.max(),
            name=rows.name.max(),
            fname=rows.fname.max(),
            uids=rows.uid.collect(),
        )
        agg = agg.left_join(hosts, agg.server == hosts.dst_ip)
        out = []
        for r in agg.to_pyarrow().to_pylist():
            bonus: dict[str, float] = {}
            if int(r["ip_host"] or 0):
                bonus["ip_or_no_host"] = p.ip_host_bonus
            if pop >= p.min_population and int(r["hosts"] or 0) <= p.rare_hosts:
                bonus["rare_server"] = p.rare_bonus
            score = clamp(p.base + sum(bonus.values()))
            out.append(
                aggregated_finding(
                    self, ctx, r,
                    src_ip=r["host_ip"],
                    dst_ip=r["server"],
                    dst_domain=r["name"],
                    score=score,
                    bytes_in=int(r["size"] or 0),
                    summary=f"executable {r['fname'] or '?'} downloaded from {r['name'] or r['server']}",
                    evidence={
                        "file": r["fname"],
                        "size": int(r["size"] or 0),
                        "base": p.base,
                        "bonus": bonus,
                        "server_hosts": int(r["hosts"] or 0),
                        "population": pop,
                    },
                    uids=sorted({u for u in (r["uids"] or []) if u})[:20],
                )
            )
        return out
