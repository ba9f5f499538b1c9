"""Building blocks shared by detectors: outbound flows with a server name, prevalence, time helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ibis
import ibis.expr.datatypes as dt
from ibis.common.exceptions import IbisError

from leaktrace.detect.base import Context
from leaktrace.detect.domains import registered_domain_expr
from leaktrace.detect.net import outbound_conn, split_allowlist


def server_names(ctx: Context, hosts: Any = None) -> Any:
    """uid → server name seen in the session (TLS SNI, else HTTP Host) and the TLS client JA3, one row per uid.
    With ``hosts`` (a table with ``src_ip``), only sessions of those clients."""
    tls = ctx.engine.table("tls")
    http = ctx.engine.table("http")
    if hosts is not None:
        tls = tls.semi_join(hosts, "src_ip")
        http = http.semi_join(hosts, "src_ip")
    names = tls.select(uid=tls.uid, name=tls.sni.lower(), ja3=tls.ja3.lower()).union(
        http.select(uid=http.uid, name=http.host.lower(), ja3=ibis.literal(None, type="string"))
    )
    names = names.mutate(
        name=ibis.cases(((names.name == "") | (names.name == "-"), ibis.null("string")), else_=names.name),
        ja3=ibis.cases(((names.ja3 == "") | (names.ja3 == "-"), ibis.null("string")), else_=names.ja3),
    )
    names = names.filter(names.name.notnull() | names.ja3.notnull())
    return names.group_by("uid").aggregate(name=names.name.max(), ja3=names.ja3.max())


def blank_null(col: Any) -> Any:
    """``col`` with Zeek's empty and unset values (``""``, ``"-"``) as null."""
    return ibis.cases(((col == "") | (col == "-"), ibis.null("string")), else_=col)


def _join_names_ungrouped(ctx: Context, conn: Any, hosts: Any = None) -> tuple[Any, Any]:
    """``conn`` with the ``name`` and ``ja3`` of :func:`server_names`, and the distinct names, joined without
    grouping the TLS log by uid, which is right when its uids are unique (as Zeek writes them: one TLS record per
    connection): then the per-uid maximum of :func:`server_names` is the TLS record's value, or the larger of it
    and the HTTP host (HTTP, small, is still grouped: one record per request). The uid grouping of millions of
    TLS records is the costliest step of the name join; :func:`outbound_named` checks the result instead."""
    tls = ctx.engine.table("tls")
    http = ctx.engine.table("http")
    if hosts is not None:
        tls = tls.semi_join(hosts, "src_ip")
        http = http.semi_join(hosts, "src_ip")
    t = tls.select(uid=tls.uid, tname=blank_null(tls.sni.lower()), ja3=blank_null(tls.ja3.lower()))
    t = t.filter(t.tname.notnull() | t.ja3.notnull())
    h = http.select(uid=http.uid, hname=blank_null(http.host.lower()))
    h = h.filter(h.hname.notnull()).group_by("uid").aggregate(hname=h.hname.max())
    j = conn.left_join(t, conn.uid == t.uid).drop("uid_right")
    j = j.left_join(h, j.uid == h.uid).drop("uid_right")
    name = ibis.cases(
        (j.tname.isnull(), j.hname), (j.hname.isnull(), j.tname), (j.hname > j.tname, j.hname), else_=j.tname
    )
    j = j.mutate(name=name).drop("tname", "hname")
    distinct = (
        t.select(name=t.tname).filter(t.tname.notnull()).union(h.select(name=h.hname), distinct=True)
    )
    return j, distinct


def outbound_named(ctx: Context, with_names: bool = True) -> Any:
    """Outbound flows (``uid``, ``src_ip``, ``dst_ip``, ``dst_port``, ``proto``, ``duration``) with ``name``
    (SNI/Host or null), ``ja3`` (TLS client fingerprint or null), ``server`` (registered domain of the name, else
    the destination IP), ``bo``/``bi`` (bytes out/in, nulls as 0), ``size`` (IP bytes out, else bytes out, else 0),
    ``epoch`` (whole seconds) and ``t`` (seconds with milliseconds: Spark cannot extract microseconds); no timestamp column (the
    times as numbers are what detectors compute with). Built once per run."""
    if "outbound_named" not in ctx._cached:
        use_flows(ctx, lambda: named_flows(ctx, group_tls=False))
    return ctx._cached["outbound_named"]


def use_flows(ctx: Context, build: Any) -> bool:
    """Make ``build()`` (flows joined without grouping TLS by uid) this run's :func:`outbound_named`, checked:
    False when they had to be rebuilt from the lake.

    TLS joined without grouping by uid (see _join_names_ungrouped) is right when no flow met two TLS records: then
    the flows' uids are as unique as the connections' (distinct 64-bit hashes: a collision can only fail the
    check). Otherwise (repeated TLS uids, or repeated connection records) the flows are rebuilt with the TLS log
    grouped by uid, which is right for any data."""
    flows = ctx.cached("outbound_named", build)
    check = flows.aggregate(n=flows.uid.count(), u=uid_hash(flows.uid).nunique()).to_pyarrow().to_pylist()[0]
    if int(check["n"] or 0) == int(check["u"] or 0):
        return True
    ctx.rebuild("outbound_named", lambda: named_flows(ctx, group_tls=True))
    return False


def hosts_since(ctx: Context, conn: Any) -> Any:
    """The internal hosts of outbound ``conn`` (see :func:`outbound_conn`) with records at or after ``ctx.since``:
    whose flows an incremental run with stored facts reads."""
    return conn.filter(conn.ts >= ctx.since).select("src_ip").distinct()


def named_flows(ctx: Context, group_tls: bool) -> Any:
    """The expression behind :func:`outbound_named` (not cached, not checked): with ``group_tls`` the TLS log is
    grouped by uid before the join (right for any data), else joined as it is (right when its uids are unique)."""
    conn = outbound_conn(ctx, ctx.engine.table("conn"))
    touched = None
    if ctx.scoped and ctx.since is not None:
        # incremental run with stored population facts: only hosts with records since the last run
        touched = hosts_since(ctx, conn)
        conn = conn.semi_join(touched, "src_ip")
    conn = conn.select(
        "ts",
        "uid",
        "src_ip",
        "dst_ip",
        "dst_port",
        "proto",
        "duration",
        "bytes_out",
        "bytes_in",
        "ip_bytes_out",
    )
    if not group_tls:
        conn, distinct = _join_names_ungrouped(ctx, conn, touched)
    else:
        names = server_names(ctx, touched)
        conn = conn.left_join(names, conn.uid == names.uid).drop("uid_right")
        distinct = names.select("name").filter(names.name.notnull()).distinct()
    regs = distinct.mutate(reg=registered_domain_expr(distinct.name))  # regexes on distinct names only
    conn = conn.left_join(regs, "name").drop("name_right")
    # only the columns detectors use are materialised (bytes as filled ``bo``/``bi`` and ``size``; no ``reg``)
    ms = epoch_ms(conn.ts)
    conn = conn.select(
        "uid",
        "src_ip",
        "dst_ip",
        "dst_port",
        "proto",
        "duration",
        "name",
        "ja3",
        server=ibis.coalesce(conn.reg, conn.dst_ip),
        bo=conn.bytes_out.fill_null(0),
        bi=conn.bytes_in.fill_null(0),
        size=ibis.coalesce(conn.ip_bytes_out, conn.bytes_out, 0),
        epoch=ms // 1000,
        t=ms.cast("float64") / 1000.0,  # seconds with milliseconds, as beacon scores them
    )
    _, domains = split_allowlist(ctx.allow_servers)
    if domains:
        pred = ibis.literal(False)
        for d in domains:
            pred = pred | (conn.name == d) | conn.name.endswith("." + d)
        conn = conn.filter(~pred.fill_null(False))
    return conn


def host_servers_of(flows: Any) -> Any:
    """Population facts of outbound flows: per (internal host, server, destination IP, client JA3) the first and
    last epoch. Small (one row per distinct combination) and mergeable: the facts of two batches of records
    are the union regrouped with min/max, so incremental runs keep them as state instead of re-reading history."""
    return flows.group_by(["src_ip", "server", "dst_ip", "ja3"]).aggregate(
        first=flows.epoch.min(), last=flows.epoch.max()
    )


def merge_host_servers(a: Any, b: Any) -> Any:
    """The facts of two batches of records (see :func:`host_servers_of`)."""
    u = a.union(b)
    return u.group_by(["src_ip", "server", "dst_ip", "ja3"]).aggregate(first=u.first.min(), last=u.last.max())


def host_servers(ctx: Context) -> Any:
    """:func:`host_servers_of` all outbound flows (built once per run; preset from state on incremental runs)."""
    return ctx.cached("host_servers", lambda: host_servers_of(outbound_named(ctx)))


def server_stats(ctx: Context) -> Any:
    """Per server (registered domain, else IP) over all outbound flows: ``hosts`` (distinct internal hosts) and
    ``server_first`` (epoch of its first flow). Built once per run, shared by beacon and exfil."""

    def build() -> Any:
        hs = host_servers(ctx)
        return hs.group_by("server").aggregate(hosts=hs.src_ip.nunique(), server_first=hs.first.min())

    return ctx.cached("server_stats", build)


def dst_hosts(ctx: Context) -> Any:
    """Per destination IP: ``hosts``, the distinct internal hosts that sent it outbound flows (once per run)."""

    def build() -> Any:
        hs = host_servers(ctx)
        return hs.group_by("dst_ip").aggregate(hosts=hs.src_ip.nunique())

    return ctx.cached("dst_hosts", build)


def ja3_hosts(ctx: Context) -> Any:
    """Per TLS client fingerprint: ``ja3_hosts``, the distinct internal hosts using it in outbound flows (once
    per run)."""

    def build() -> Any:
        hs = host_servers(ctx)
        hs = hs.filter(hs.ja3.notnull())
        return hs.group_by("ja3").aggregate(ja3_hosts=hs.src_ip.nunique())

    return ctx.cached("ja3_hosts", build)


def outbound_bounds(ctx: Context) -> tuple[int | None, int | None, int]:
    """(first epoch, last epoch, internal hosts) of all outbound flows, once per run."""
    key = "outbound_bounds"
    if key not in ctx._cached:
        hs = host_servers(ctx)
        agg = hs.aggregate(lo=hs.first.min(), hi=hs.last.max(), pop=hs.src_ip.nunique())
        r = agg.to_pyarrow().to_pylist()[0]
        ctx._cached[key] = (r["lo"], r["hi"], int(r["pop"] or 0))
    return ctx._cached[key]  # type: ignore[no-any-return]


def outbound_population(ctx: Context) -> int:
    """Distinct internal hosts with outbound traffic (all history, also on incremental runs)."""
    return outbound_bounds(ctx)[2]


@ibis.udf.scalar.builtin(name="epoch_ms")
def _duckdb_epoch_ms(ts: dt.timestamp) -> dt.int64:  # type: ignore[empty-body]
    """DuckDB's ``epoch_ms``: milliseconds since the epoch of an instant (no time-zone conversion)."""


@ibis.udf.scalar.builtin(name="unix_millis")
def _spark_unix_millis(ts: dt.timestamp) -> dt.int64:  # type: ignore[empty-body]
    """Spark's ``unix_millis``: milliseconds since the epoch, finer precision truncated."""


_NATIVE_EPOCH_MS = {"duckdb": _duckdb_epoch_ms, "pyspark": _spark_unix_millis}


@ibis.udf.scalar.builtin(name="xxhash64")
def _spark_xxhash64(value: dt.string) -> dt.int64:  # type: ignore[empty-body]
    """Spark's 64-bit ``xxhash64`` (its ``hash`` is 32-bit)."""


def backend_name(expr: Any) -> str:
    """The name of the engine an expression is bound to ("duckdb", "pyspark"), "" when unbound."""
    try:
        return str(expr._find_backend(use_default=False).name)
    except IbisError:  # an unbound expression (no backend yet)
        return ""


def arg_max(value: Any, by: Any, tie: Any) -> Any:
    """``value`` of the row with the largest ``by``, of equal ones the one with the largest ``tie`` (a record's
    uid). A plain arg-max picks among equal ``by`` in the order the engine reads rows, which differs between one
    pass and host buckets (and may between runs on several threads): the record a finding cites would too."""
    return value.argmax(ibis.struct({"by": by, "tie": tie}))


def host_bucket(col: Any, n: int) -> Any:
    """0..n-1 from a hash of ``col`` (the engine's hash, non-negative modulo): hosts split into ``n`` groups."""
    return ((col.hash() % n) + n) % n


def uid_hash(col: Any) -> Any:
    """A 64-bit hash of a string column (DuckDB ``hash``, Spark ``xxhash64``), for cheap distinct counts where
    a collision may only make a check fail safe."""
    if backend_name(col) == "pyspark":
        return _spark_xxhash64(col)
    return col.hash()


def epoch_ms(ts: Any) -> Any:
    """Whole milliseconds since the epoch as int64, by the engine's own function where it has one (DuckDB
    ``epoch_ms``, Spark ``unix_millis``: the same value). Ibis's portable route (truncate to the second,
    ``epoch_seconds``, add the millisecond field) casts the lake's time-zone-aware timestamps to local time
    first, which costs DuckDB about 10x more than the whole scan; it remains the fallback for other engines."""
    native = _NATIVE_EPOCH_MS.get(backend_name(ts))
    if native is not None:
        return native(ts)
    whole = ts.truncate("s").epoch_seconds().cast("int64")
    return whole * 1000 + ts.millisecond().cast("int64")


def epoch(ts: Any) -> Any:
    """Whole epoch seconds as int64 (floor of :func:`epoch_ms`; the same on every engine)."""
    return epoch_ms(ts) // 1000



def recent_records(ctx: Context, table: Any) -> Any:
    """``table`` (with ``ts``) from the second of ``ctx.since`` on (all of it when None): the records per-record
    detectors look at on incremental runs, as the same records as ``epoch(ts) >= since_epoch(ctx)`` but a
    timestamp comparison, which Parquet statistics prune (the lake is read only from the new data on)."""
    if ctx.since is None:
        return table
    return table.filter(table.ts >= ctx.since.replace(microsecond=0))


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
