"""Collect normalised endpoint rows per (table, day) and write them as Arrow tables.

Mappers call :meth:`RowSink.add` with a plain dict per row (``ts`` in epoch microseconds, UTC); the sink
groups rows by table and day, builds one Arrow table per group with the table's schema (column-wise, no
per-cell Python conversion beyond what ``pa.array`` does) and writes it to the staged batch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from leaktrace.ingest.base import MAX_KEPT_BAD, BadRecord, SourceResult
from leaktrace.lake import StagedBatch
from leaktrace.schema import TABLES, conform

DAY_US = 86_400_000_000
# rows held as Python dicts before they are written (bounds memory: ~1 KB a row)
FLUSH_ROWS = 100_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_of(ts_us: int) -> str:
    return (_EPOCH + timedelta(microseconds=(ts_us // DAY_US) * DAY_US)).strftime("%Y-%m-%d")


class RowSink:
    """Rows waiting to be written for one source."""

    def __init__(
        self,
        batch: StagedBatch | None,
        result: SourceResult,
        provenance: dict[str, str],
        flush_rows: int = FLUSH_ROWS,
    ) -> None:
        self.batch = batch
        self.result = result
        self.provenance = provenance
        self.flush_rows = flush_rows
        self.pending: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.n_pending = 0
        # when no batch is given (tests, library use) the tables are kept here
        self.kept: dict[str, list[pa.Table]] = {}

    def add(self, table: str, row: dict[str, Any]) -> None:
        ts = row.get("ts")
        key = (table, ts // DAY_US if isinstance(ts, int) else -1)
        rows = self.pending.get(key)
        if rows is None:
            rows = self.pending[key] = []
        rows.append(row)
        self.n_pending += 1
        if self.n_pending >= self.flush_rows:
            self.flush()

    def bad(self, line: int | None, reason: str, raw: str) -> None:
        self.result.bad_count += 1
        if len(self.result.bad) < MAX_KEPT_BAD:
            self.result.bad.append(BadRecord(line, reason[:200], raw[:2000]))

    def flush(self) -> None:
        for (table, day_n), rows in self.pending.items():
            data = build_table(table, rows, self.provenance)
            day = day_of(day_n * DAY_US) if day_n >= 0 else "unknown"
            if self.batch is not None:
                self.batch.write(table, day, data)
            else:
                self.kept.setdefault(table, []).append(data)
            self.result.rows[table] = self.result.rows.get(table, 0) + data.num_rows
        self.pending.clear()
        self.n_pending = 0

    def tables(self) -> dict[str, pa.Table]:
        """The rows kept in memory (when no batch was given), one table per normalised table."""
        self.flush()
        return {name: pa.concat_tables(parts) for name, parts in self.kept.items()}


def build_table(table: str, rows: list[dict[str, Any]], provenance: dict[str, str]) -> pa.Table:
    """One Arrow table of ``table``'s schema from row dicts (missing keys are null; ``ts`` in epoch us)."""
    schema = TABLES[table]
    body_schema = pa.schema([f for f in schema if f.name not in provenance])
    data = pa.Table.from_pylist(rows, schema=body_schema)
    n = data.num_rows
    for name, value in provenance.items():
        if name in schema.names:
            data = data.append_column(schema.field(name), pa.array([value] * n, schema.field(name).type))
    return conform(table, data)
