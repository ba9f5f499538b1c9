"""Commit micro-batches of rows to the lake, as the file ingest does (stage, then one atomic commit).

:func:`commit_rows` is the one way live sources write: one micro-batch is one committed source under a key.
The live pcap tail derives the key from the content it read (the same bytes read again after a restart give
the same key, which the lake already holds, so nothing is written twice); :class:`MicroBatchWriter` (NetFlow)
makes a unique key per batch. The workspace's writer lock (``lake/ingest.lock``, shared with ``leaktrace
ingest``) is taken for the commit; when ``wait`` is false and a file ingest holds it, nothing is written and
the caller keeps its rows for the next batch.
"""

from __future__ import annotations

import fcntl
import uuid
from datetime import UTC, datetime

from leaktrace.ingest.base import SourceResult
from leaktrace.ingest.net.common import Row, RowSink
from leaktrace.lake import Lake


def commit_rows(lake: Lake, key: str, rows: dict[str, list[Row]], *, tenant: str, sensor: str, kind: str,
                name: str, wait: bool = False) -> dict[str, int] | None:
    """Rows written per table; ``{}`` when there is nothing to write or the key is already in the lake; None
    when the lock was busy (and ``wait`` is false)."""
    if not any(rows.values()):
        return {}
    lake.root.mkdir(parents=True, exist_ok=True)
    with (lake.root / "ingest.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        try:
            if lake.is_ingested(key, tenant):
                return {}
            batch = lake.stage(tenant, key, name, kind)
            result = SourceResult(format=kind)
            sink = RowSink(batch.write, result, tenant, sensor, kind, name)
            try:
                for table, table_rows in rows.items():
                    for row in table_rows:
                        sink.add(table, row)
                sink.flush()
                lake.commit(batch, quarantined=len(rows.get("quarantine", [])))
            except BaseException:
                batch.abort()
                raise
            return dict(result.rows)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class MicroBatchWriter:
    """Commits each batch under a new unique key ``<kind>:<name>:<UTC time>:<random>``."""

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
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
        key = f"{self.kind}:{self.name}:{stamp}:{uuid.uuid4().hex[:12]}"
        written = commit_rows(self.lake, key, rows, tenant=self.tenant, sensor=self.sensor, kind=self.kind,
                              name=self.name, wait=wait)
        return None if written is None else (key, written)
