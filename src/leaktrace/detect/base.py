"""Findings, the detector contract and the context a detector runs in.

A detector is a class with a ``name``, a ``kind`` (what it finds), a pydantic ``Params`` model (its
thresholds, every one documented) and ``run(ctx) -> list[Finding]``. It reads tables through
``ctx.engine.table(name)`` and builds Ibis expressions only; it writes nothing. Scoring of the (small)
aggregated result may happen in Python; the heavy lifting stays in the engine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, Field

from leaktrace.config import Strict

SEVERITIES = ("low", "medium", "high", "critical")


def severity_for(score: float) -> str:
    """Severity bands shared by findings and incidents (RITA's bands: 0.4 / 0.6 / 0.8)."""
    if score >= 0.8:
        return "critical"
    if score >= 0.6:
        return "high"
    if score >= 0.4:
        return "medium"
    return "low"


def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    if math.isnan(x):
        return lo
    return max(lo, min(hi, x))


class Finding(BaseModel):
    """One thing a detector saw: an internal host, an external server, a span, a score and the evidence."""

    detector: str
    kind: str
    tenant: str
    src_ip: str
    dst_ip: str | None = None
    dst_domain: str | None = None
    first_ts: datetime
    last_ts: datetime
    score: float = Field(ge=0.0, le=1.0)
    severity: str = ""
    bytes_out: int = 0
    bytes_in: int = 0
    conn_count: int = 0
    summary: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)
    uids: list[str] = Field(default_factory=list, description="record references (Zeek uids), capped")
    window: str = Field(default="", description="what makes the key unique beyond host and server")

    def model_post_init(self, __context: Any) -> None:
        if not self.severity:
            self.severity = severity_for(self.score)
        self.score = round(self.score, 4)

    @property
    def key(self) -> str:
        """Stable identity across re-runs: detector, tenant, host, server and window."""
        raw = "|".join(
            [self.detector, self.tenant, self.src_ip, self.dst_ip or "", self.dst_domain or "", self.window]
        )
        return hashlib.sha1(raw.encode()).hexdigest()[:20]

    @property
    def server(self) -> str:
        return self.dst_domain or self.dst_ip or "?"


class Engineish(Protocol):
    def table(self, name: str) -> Any: ...


@dataclass
class Context:
    """What a detector may know besides the tables: who is internal, what is allow-listed, what is new.

    ``since`` is the earliest timestamp of data committed since the previous analysis (None: analyse all).
    Per-record detectors only look at records at or after it; aggregate detectors recompute only the
    windows and pairs it touches, reading the history they need for baselines.
    """

    engine: Engineish
    tenant: str = "default"
    internal: list[str] = field(default_factory=lambda: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
    allow_servers: list[str] = field(default_factory=list)
    allow_hosts: list[str] = field(default_factory=list)
    since: datetime | None = None
    indicators: list[dict[str, str]] = field(default_factory=list)
    params: dict[str, BaseModel] = field(default_factory=dict)
    cache: bool = True
    scoped: bool = False
    """Set by the caller on incremental runs when the population facts (``host_servers``) of all history are
    provided from state (``cached("host_servers", ...)``): outbound flows are then read only for hosts with
    records at or after ``since``."""
    stored: set[str] = field(default_factory=set)
    """Names of intermediate tables the caller preset from stored state (covering all history, including the
    records since ``since``), e.g. ``dns_pairs``: detectors may then read only the hosts with new records."""
    _cached: dict[str, Any] = field(default_factory=dict, repr=False)

    def memo(self, name: str, build: Any) -> Any:
        """Any per-run value (not an engine table) built once and shared by the detectors of this run."""
        if name not in self._cached:
            self._cached[name] = build()
        return self._cached[name]

    def cached(self, name: str, build: Any) -> Any:
        """Build an intermediate table once per run and keep it in the engine (a table in DuckDB's in-memory
        catalog, a managed table in Spark), so detectors that share it do not recompute it."""
        if name not in self._cached:
            expr = build()
            con = getattr(self.engine, "con", None)
            if self.cache and con is not None and hasattr(con, "create_table"):
                table = f"_leaktrace_{name}"
                if (
                    getattr(con, "name", "") == "duckdb"
                ):  # ibis 12's DuckDB create_table(expr) fails on duckdb 2
                    sql = con.compile(expr)
                    con.raw_sql(f'CREATE OR REPLACE TEMP TABLE "{table}" AS {sql}')
                    expr = con.table(table)
                else:
                    expr = con.create_table(table, expr, overwrite=True)
            self._cached[name] = expr
        return self._cached[name]

    def fork(self, **changes: Any) -> Context:
        """A copy of this context with ``changes`` and a cache of its own (empty: :meth:`share` fills it)."""
        return dataclasses.replace(self, **changes, _cached={})

    def share(self, names: Iterable[str], other: Context) -> None:
        """Take over ``other``'s intermediate tables ``names`` (those it has)."""
        self._cached.update((n, other._cached[n]) for n in names if n in other._cached)

    def forget(self, name: str) -> None:
        """Drop ``name`` from this run's intermediate tables (the engine table stays until replaced)."""
        self._cached.pop(name, None)

    def rebuild(self, name: str, build: Any) -> Any:
        """:meth:`cached` again: ``name`` replaced by what ``build`` gives (the engine table overwritten)."""
        self.forget(name)
        return self.cached(name, build)

    def params_for(self, name: str, model: type[BaseModel]) -> Any:
        return self.params.get(name) or model()


class Detector(Protocol):
    name: ClassVar[str]
    kind: ClassVar[str]
    Params: ClassVar[type[Strict]]

    def run(self, ctx: Context) -> list[Finding]: ...


def to_dt(value: Any) -> datetime:
    """A timestamp from an engine result (datetime, pandas Timestamp or epoch seconds) as aware UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if hasattr(value, "to_pydatetime"):
        return to_dt(value.to_pydatetime())
    return datetime.fromtimestamp(float(value), tz=UTC)


def aggregated_finding(detector: Any, ctx: Context, row: Mapping[str, Any], **fields: Any) -> Finding:
    """A finding of ``detector`` over one aggregated row: its span (columns ``first`` and ``last``, epoch seconds
    or timestamps) and its count ``n`` (unless ``fields`` give ``conn_count``); ``fields`` give the rest."""
    if "conn_count" not in fields:
        fields["conn_count"] = int(row["n"])
    return Finding(detector=detector.name, kind=detector.kind, tenant=ctx.tenant, first_ts=to_dt(row["first"]),
                   last_ts=to_dt(row["last"]), **fields)


def day_window(ts: datetime, seconds: int) -> str:
    start = datetime.fromtimestamp((int(ts.timestamp()) // seconds) * seconds, tz=UTC)
    return f"{start.isoformat()}+{timedelta(seconds=seconds)}"
