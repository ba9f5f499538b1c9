"""Building blocks shared by detectors: outbound flows with a server name, prevalence, time helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ibis

from leaktrace.detect.base import Context
from leaktrace.detect.domains import registered_domain_expr
from leaktrace.detect.net import outbound_conn, split_allowlist


def server_names(ctx: Context) -> Any:
    """uid → server name seen in the session (TLS SNI, else HTTP Host), one row per uid."""
    tls = ctx.engine.table("tls")
    http = ctx.engine.table("http")
    names = tls.select(uid=tls.uid, name=tls.sni.lower()).union(
        http.select(uid=http.uid, name=http.host.lower())
    )
    names = names.filter(names.name.notnull() & (names.name != "") & (names.name != "-"))
    return names.group_by("uid").aggregate(name=names.name.max())


def outbound_named(ctx: Context, with_names: bool = True) -> Any:
    """Outbound flows with ``name`` (SNI/Host or null), ``server`` (registered domain of the name, else the
    destination IP), ``bo``/``bi`` (bytes out/in, nulls as 0) and ``epoch`` (seconds)."""
    conn = outbound_conn(ctx, ctx.engine.table("conn"))
    if with_names:
        names = server_names(ctx)
        conn = conn.left_join(names, conn.uid == names.uid).drop("uid_right")
        server = ibis.coalesce(registered_domain_expr(conn.name), conn.dst_ip)
    else:
        conn = conn.mutate(name=ibis.literal(None, type="string"))
        server = conn.dst_ip
    conn = conn.mutate(
        server=server,
        bo=conn.bytes_out.fill_null(0),
        bi=conn.bytes_in.fill_null(0),
        epoch=conn.ts.epoch_seconds(),
    )
    _, domains = split_allowlist(ctx.allow_servers)
    if domains and with_names:
        pred = ibis.literal(False)
        for d in domains:
            pred = pred | (conn.name == d) | conn.name.endswith("." + d)
        conn = conn.filter(~pred.fill_null(False))
    return conn


def since_epoch(ctx: Context) -> int | None:
    return int(ctx.since.timestamp()) if ctx.since is not None else None


def epoch_of(dt: datetime | None) -> int | None:
    return int(dt.timestamp()) if dt is not None else None


def population(flows: Any) -> int:
    """Distinct internal hosts with outbound traffic."""
    return int(flows.src_ip.nunique().execute() or 0)


def prevalence_modifier(hosts: int, pop: int, min_population: int, rare: float, common: float) -> float:
    """RITA's prevalence modifier: +0.15 if ≤ ``rare`` of hosts use the server, −0.15 if ≥ ``common``;
    0 when the population is too small to say."""
    if pop < min_population:
        return 0.0
    frac = hosts / pop
    if frac <= rare:
        return 0.15
    if frac >= common:
        return -0.15
    return 0.0
