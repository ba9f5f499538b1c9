"""Commit micro-batches of rows to the lake, as the file ingest does (stage, then one atomic commit).

Each micro-batch is its own committed source under a unique key (``<kind>:<name>:<UTC time>:<random>``). The
workspace's writer lock (``lake/ingest.lock``, shared with ``leaktrace ingest``) is taken for the commit; when
``wait`` is false and a file ingest holds it, nothing is written and the caller keeps its rows for next time.
"""

from __future__ import annotations

import fcntl
import uuid
from datetime import UTC, datetime

from leaktrace.ingest.base import SourceResult
from leaktrace.ingest.net.common import Row, RowSink
from leaktrace.lake import Lake


class MicroBatchWriter:
    def __init__(self, lake: Lake, tenant: str, sensor: str, kind: str, name: str) -> None:
        self.lake = lake
        self.tenant = tenant
        self.sensor = sensor
        self.kind = kind
        self.name = name

    def commit(self, rows: dict[str, list[Row]], wait: bool = False) -> tuple[str, dict[str, int]] | None:
        """Write ``{table: rows}`` as one committed batch; returns (key, rows per table), or None when the lock
        was busy (and ``wait`` is false) or there was nothing to write."""
        if not any(rows.values()):
            return None
        lock_path = self.lake.root / "ingest.lock"
        with lock_path.open("w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                return None
            try:
                return self._commit(rows)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _commit(self, rows: dict[str, list[Row]]) -> tuple[str, dict[str, int]]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
        key = f"{self.kind}:{self.name}:{stamp}:{uuid.uuid4().hex[:12]}"
        batch = self.lake.stage(self.tenant, key, self.name, self.kind)
        result = SourceResult(format=self.kind)
        sink = RowSink(batch.write, result, self.tenant, self.sensor, self.kind, self.name)
        try:
            for table, table_rows in rows.items():
                for row in table_rows:
                    sink.add(table, row)
            sink.flush()
            self.lake.commit(batch, quarantined=len(rows.get("quarantine", [])))
        except BaseException:
            batch.abort()
            raise
        return key, dict(result.rows)
