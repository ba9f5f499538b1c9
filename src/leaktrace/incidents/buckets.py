"""Full analyses of large lakes in host buckets, so that the shared intermediate fits in memory.

The outbound flows joined with their TLS/HTTP names (:func:`leaktrace.detect.common.outbound_named`) are what the
flow detectors share. At ≈ 50 M conn rows a day they are ≈ 7 GB in DuckDB's uncompressed in-memory format: far
over its memory limit, so they, and the TLS join that builds them, spill to disk and every detector reads them
back. Above ``max_rows`` conn rows a full run therefore:

1. builds the flows per time slice of ``slice_hours`` (a connection and its TLS record share their time, so each
   slice reads only its row groups of the time-ordered lake and its join fits in memory; a slice's TLS records
   are read up to ``tls_margin_s`` past its end; HTTP, small, is read whole) and writes them to Parquet,
   partitioned by a hash of the internal host into ``ceil(rows / bucket_rows)`` buckets;
2. takes the population facts (which hosts use which server, …) over all buckets;
3. runs the flow detectors once per bucket, over that bucket's flows only.

Flow detectors (``per_host_flows``) group by internal host or host × server and read prevalence and population
from the facts, so per bucket they find what they find over all hosts at once (tested against one bucket).
Up to ``max_rows`` (the default day of 10,000 simulated hosts, 14 M rows) nothing changes: one bucket, in memory.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context
from leaktrace.detect.common import (
    blank_null,
    host_bucket,
    host_servers,
    named_flows,
    outbound_bounds,
    server_stats,
    uid_hash,
)
from leaktrace.engine import sql_string

# what the run's context computes once for all buckets: the population facts and what derives from them, and
# tables of DNS only; everything else a flow detector caches derives from its bucket's flows
RUN_WIDE = (
    "host_servers", "server_stats", "outbound_bounds", "dst_hosts", "ja3_hosts", "no_dns_resolved_org",
    "no_dns_resolved_host", "no_dns_clients", "beacon_rare_user_agents",
    "beacon_rare_ja3", "dns_first_answers",
)


class BucketParams(Strict):
    max_rows: int = Field(
        default=20_000_000, ge=1, description="conn rows up to which a full run keeps all flows in memory"
    )
    bucket_rows: int = Field(default=6_000_000, ge=1_000, description="conn rows per host bucket above that")
    slice_hours: float = Field(default=1.0, gt=0, description="time slice of the flow join")
    tls_margin_s: float = Field(
        default=600.0, ge=0, description="TLS records and first HTTP requests read past a slice's end"
    )


def bucket_count(conn_rows: int, p: BucketParams) -> int:
    return 1 if conn_rows <= p.max_rows else math.ceil(conn_rows / p.bucket_rows)


class SliceEngine:
    """The engine with ``conn`` limited to one time slice (``hi`` None: from ``lo`` on), ``tls`` to the slice and
    a margin after it, and ``http`` to the uids whose first request falls there (``http``: the HTTP log, or
    ``http_first``: one row per uid with its largest non-blank host, as the name join takes it, and the time of
    its first request)."""

    def __init__(self, engine: Any, http: Any, lo: datetime, hi: datetime | None, margin: timedelta) -> None:
        self._engine, self._http = engine, http
        self._lo, self._hi, self._margin = lo, hi, margin

    def table(self, name: str) -> Any:
        t = self._http if name == "http" else self._engine.table(name)
        if name not in ("conn", "tls", "http"):
            return t
        t = t.filter(t.ts >= self._lo)
        if self._hi is None:
            return t
        return t.filter(t.ts < (self._hi if name == "conn" else self._hi + self._margin))

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._engine, attr)


def _http_first(ctx: Context) -> Any:
    """Per HTTP uid: the largest non-blank host (lower case) and the time of the first request, once per run
    (grouping all of HTTP per slice would cost as much as the slices)."""
    http = ctx.engine.table("http")
    http = http.mutate(host=blank_null(http.host.lower()))
    http = http.filter(http.host.notnull())
    return ctx.cached(
        "http_first", lambda: http.group_by("uid").aggregate(host=http.host.max(), ts=http.ts.min(), src_ip=http.src_ip.max())
    )


def _slices(ctx: Context, hours: float) -> Iterator[tuple[datetime, datetime]]:
    conn = ctx.engine.table("conn")
    r = conn.aggregate(lo=conn.ts.min(), hi=conn.ts.max()).to_pyarrow().to_pylist()[0]
    if r["lo"] is None:
        return
    step = timedelta(hours=hours)
    lo = r["lo"].replace(minute=0, second=0, microsecond=0)
    while lo <= r["hi"]:
        yield lo, lo + step
        lo += step


class FlowBuckets:
    """The named outbound flows of a full run written to ``folder`` in ``buckets`` host buckets."""

    def __init__(self, ctx: Context, folder: Path, buckets: int, p: BucketParams) -> None:
        self.ctx, self.folder, self.buckets, self.p = ctx, folder, buckets, p
        self.engine = cast(Any, ctx.engine)  # the lake's DuckDB engine
        self.con = self.engine.con

    def write(self) -> None:
        """Build and write the flows slice by slice; rebuilt with TLS grouped by uid when a flow met two TLS
        records (see :func:`leaktrace.detect.common.outbound_named`)."""
        for group_tls in (False, True):
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            margin = timedelta(seconds=self.p.tls_margin_s)
            http = _http_first(self.ctx)
            for n, (lo, hi) in enumerate(_slices(self.ctx, self.p.slice_hours)):
                sctx = self.ctx.fork(engine=SliceEngine(self.ctx.engine, http, lo, hi, margin), cache=False)
                flows = named_flows(sctx, group_tls)
                flows = flows.mutate(bucket=host_bucket(flows.src_ip, self.buckets))
                sql = self.con.compile(flows)
                self.con.raw_sql(
                    # uncompressed: the detectors read each bucket's files several times; the full run is ≈ 2 %
                    # faster than with Snappy, the files (kept as flow_state) ≈ 1.4x larger
                    f"COPY ({sql}) TO {sql_string(self.folder)} (FORMAT parquet, COMPRESSION uncompressed, "
                    "PARTITION_BY (bucket), "
                    f"OVERWRITE_OR_IGNORE, FILENAME_PATTERN 's{n:05d}_{{i}}')"
                )
            if not self._has_files():
                return  # no outbound flows at all
            every = self.view()
            check = every.aggregate(n=every.uid.count(), u=uid_hash(every.uid).nunique()).to_pyarrow().to_pylist()[0]
            if int(check["n"] or 0) == int(check["u"] or 0):
                return

    def _has_files(self) -> bool:
        return any(self.folder.rglob("*.parquet"))

    def _files(self, bucket: int | None) -> list[Path]:
        return sorted(self.folder.glob(f"{'*' if bucket is None else f'bucket={bucket}'}/*.parquet"))

    def view(self) -> Any:
        """All flows (a view over the files)."""
        return self.engine.parquet_view("_leaktrace_flow_buckets", self._files(None))

    def prepare_facts(self) -> None:
        """The population facts over all buckets, and what is derived from them, in the run's context."""
        every = self.view() if self._has_files() else named_flows(self.ctx, group_tls=False).limit(0)
        self.ctx.memo("outbound_named", lambda: every)  # facts only: detectors get their bucket's flows
        host_servers(self.ctx)
        server_stats(self.ctx)
        outbound_bounds(self.ctx)
        self.ctx.forget("outbound_named")

    def contexts(self) -> Iterator[Context]:
        """Per bucket: the run's context with that bucket's flows as ``outbound_named`` (a view of its files, read
        by each query: as fast overall as loading each bucket into memory first, measured, and the run's peak
        memory a third lower); the facts and what derives from them shared."""
        shared = self.ctx.fork()
        shared.share(RUN_WIDE, self.ctx)
        for b in range(self.buckets):
            if not (self.folder / f"bucket={b}").is_dir():
                continue  # no internal host hashed to it
            flows = self.engine.parquet_view("_leaktrace_outbound_named", self._files(b))
            bctx = self.ctx.fork()
            bctx.share(RUN_WIDE, shared)
            bctx.memo("outbound_named", lambda: flows)  # noqa: B023 (called at once)
            yield bctx
            shared.share(RUN_WIDE, bctx)  # what the bucket computed from DNS or the facts serves the next one

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
