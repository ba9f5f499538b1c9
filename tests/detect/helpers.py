"""Tiny builders for golden tests: a few records in, an Engine out."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from leaktrace.detect.base import Context, Finding
from leaktrace.detect.registry import detectors
from leaktrace.engine import Engine
from leaktrace.schema import TABLES, conform

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
_uid = itertools.count(1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def flow(
    src: str,
    dst: str,
    t: float,
    out: int = 300,
    inn: int = 1000,
    port: int = 443,
    dur: float = 1.0,
    **kw: Any,
) -> dict[str, Any]:
    return {
        "ts": at(t),
        "uid": kw.pop("uid", f"C{next(_uid)}"),
        "src_ip": src,
        "src_port": 50000,
        "dst_ip": dst,
        "dst_port": port,
        "proto": "tcp",
        "duration": dur,
        "bytes_out": out,
        "bytes_in": inn,
        "ip_bytes_out": out + 40,
        "ip_bytes_in": inn + 40,
        "state": "SF",
        "tenant": "default",
        **kw,
    }


def table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = TABLES[name]
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return conform(name, pa.table({k: pa.array(v, type=schema.field(k).type) for k, v in cols.items()}))


def engine(**tables: list[dict[str, Any]]) -> Engine:
    return Engine.from_arrow({name: table(name, rows) for name, rows in tables.items()})


def run(detector: str, eng: Any, **ctx: Any) -> list[Finding]:
    return detectors.get(detector)().run(Context(engine=eng, **ctx))
