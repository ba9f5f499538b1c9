"""Shared pieces of the network ingesters: a row sink that turns Python dicts into per-day Arrow batches.

Rows are plain dicts keyed by column names of :mod:`leaktrace.schema`; time columns hold epoch seconds
(float). :class:`RowSink` adds the provenance columns, splits by UTC day of ``ts`` and writes to a
:class:`~leaktrace.lake.StagedBatch` (or to any callable with the same signature, for the live collectors).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from leaktrace.ingest.base import MAX_KEPT_BAD, BadRecord, SourceResult
from leaktrace.schema import TABLES, TS, conform

Row = dict[str, Any]
WriteFn = Callable[[str, str, pa.Table], None]

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def stable_id(prefix: str, *parts: object) -> str:
    """A Zeek-looking id (``C`` + 17 base-62 chars) derived from ``parts``: the same input gives the same id."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogateescape")).digest()
    n = int.from_bytes(digest[:13], "big")
    chars = []
    for _ in range(17):
        n, r = divmod(n, 62)
        chars.append(_B62[r])
    return prefix + "".join(chars)


def day_of(ts: float | None) -> str:
    if ts is None:
        return "unknown"
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return "unknown"


def to_json(obj: dict[str, Any]) -> str | None:
    clean = {k: v for k, v in obj.items() if v is not None and v != "" and v != [] and v != {}}
    return json.dumps(clean, ensure_ascii=False, sort_keys=True, default=str) if clean else None


def _column(name: str, typ: pa.DataType, rows: list[Row]) -> pa.Array:
    values = [r.get(name) for r in rows]
    if typ == TS:
        micros = [None if v is None else int(round(float(v) * 1_000_000)) for v in values]
        return pa.array(micros, pa.int64()).cast(TS)
    if pa.types.is_integer(typ):
        return pa.array([None if v is None else int(v) for v in values], typ)
    if pa.types.is_floating(typ):
        return pa.array([None if v is None else float(v) for v in values], typ)
    if pa.types.is_boolean(typ):
        return pa.array([None if v is None else bool(v) for v in values], typ)
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def rows_to_table(table: str, rows: list[Row]) -> pa.Table:
    """Rows (dicts) to an Arrow table with exactly the columns of the normalised ``table``."""
    schema = TABLES[table]
    arrays = [_column(f.name, f.type, rows) for f in schema]
    return conform(table, pa.Table.from_arrays(arrays, schema=schema))


class RowSink:
    """Collects rows per table, adds provenance and writes them per day in chunks."""

    def __init__(
        self,
        write: WriteFn,
        result: SourceResult,
        tenant: str,
        sensor: str,
        source_format: str,
        source_file: str,
        chunk_rows: int = 20_000,
    ) -> None:
        self._write = write
        self.result = result
        self.prov = {"tenant": tenant, "sensor": sensor, "source_format": source_format,
                     "source_file": source_file}
        self.chunk_rows = chunk_rows
        self._rows: dict[str, list[Row]] = {}

    def add(self, table: str, row: Row) -> None:
        bucket = self._rows.setdefault(table, [])
        bucket.append(row)
        if len(bucket) >= self.chunk_rows:
            self.flush_table(table)

    def bad(self, line: int | None, reason: str, raw: str | bytes) -> None:
        self.result.bad_count += 1
        if len(self.result.bad) < MAX_KEPT_BAD:
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
            self.result.bad.append(BadRecord(line, reason[:200], text[:2000]))

    def note(self, text: str) -> None:
        if text not in self.result.notes:
            self.result.notes.append(text)

    def flush_table(self, table: str) -> None:
        rows = self._rows.pop(table, [])
        if not rows:
            return
        for r in rows:
            r.update(self.prov)
        by_day: dict[str, list[Row]] = {}
        for r in rows:
            by_day.setdefault(day_of(r.get("ts")), []).append(r)
        for day, part in by_day.items():
            self._write(table, day, rows_to_table(table, part))
            self.result.rows[table] = self.result.rows.get(table, 0) + len(part)

    def flush(self) -> None:
        for table in list(self._rows):
            self.flush_table(table)
