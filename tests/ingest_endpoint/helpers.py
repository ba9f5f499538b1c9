"""Run the endpoint readers on text written to a temporary file and return the normalised tables."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from leaktrace.ingest.base import IngestContext, SourceResult
from leaktrace.ingest.endpoint.sink import RowSink
from leaktrace.ingest.sources import Source

Reader = Callable[[Source, RowSink, IngestContext], Any]


def run_reader(reader: Reader, path: Path) -> tuple[SourceResult, dict[str, pa.Table]]:
    result = SourceResult(format="test")
    prov = {"tenant": "t", "sensor": "s", "source_format": "test", "source_file": path.name}
    sink = RowSink(None, result, prov)
    notes = reader(Source(path.name, path, "0" * 64, path.stat().st_size), sink, IngestContext("t", "s"))
    if isinstance(notes, list):
        result.notes.extend(notes)
    return result, sink.tables()


def run_lines(reader: Reader, tmp_path: Path, lines: list[str], name: str = "events.json") -> tuple[
        SourceResult, dict[str, pa.Table]]:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run_reader(reader, path)


def rows(tables: dict[str, pa.Table], name: str) -> list[dict[str, Any]]:
    """Rows of one table without provenance, ``extra`` parsed, ts as ISO text."""
    if name not in tables:
        return []
    out = []
    for r in tables[name].to_pylist():
        for k in ("tenant", "sensor", "source_format", "source_file"):
            r.pop(k)
        for k in ("extra", "data"):
            if r.get(k):
                r[k] = json.loads(r[k])
        if r.get("ts") is not None:
            r["ts"] = r["ts"].isoformat().replace("+00:00", "Z")
        out.append({k: v for k, v in r.items() if v is not None})
    return out


def subset(row: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The part of ``row`` that ``expected`` describes (extra: only the expected keys)."""
    out: dict[str, Any] = {}
    for k, v in expected.items():
        if k in ("extra", "data") and isinstance(v, dict):
            out[k] = {kk: row.get(k, {}).get(kk) for kk in v}
        else:
            out[k] = row.get(k)
    return out
