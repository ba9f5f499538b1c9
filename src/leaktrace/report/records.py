"""The underlying records as files (CSV, Parquet) and their hashes: pure functions, deterministic bytes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return str(v)


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def to_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheet programs read Japanese correctly), one column per key."""
    buf = io.StringIO()
    cols = _columns(rows)
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in cols])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_parquet(rows: Sequence[dict[str, Any]]) -> bytes:
    """Parquet; nested values as JSON text so every column has one type."""
    cols = _columns(rows)
    data: dict[str, list[Any]] = {c: [] for c in cols}
    for r in rows:
        for c in cols:
            v = r.get(c)
            data[c].append(json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
                           if isinstance(v, dict | list) else v)
    table = pa.table(data) if cols else pa.table({"empty": pa.array([], pa.int8())})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()
