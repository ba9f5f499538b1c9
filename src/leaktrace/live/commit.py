"""Commit one micro-batch of rows to the lake as one source, under a key derived from its content.

The same content (e.g. the same pcap bytes read again after a restart) gives the same key, which the lake
already holds, so it is not written twice. The workspace writer lock (shared with ``leaktrace ingest``) is
taken without waiting: when a file ingest holds it, the caller keeps its rows for the next micro-batch.
"""

from __future__ import annotations

import fcntl

from leaktrace.ingest.base import SourceResult
from leaktrace.ingest.net.common import Row, RowSink
from leaktrace.lake import Lake


def commit_rows(lake: Lake, key: str, rows: dict[str, list[Row]], *, tenant: str, sensor: str, kind: str,
                name: str, wait: bool = False) -> dict[str, int] | None:
    """Rows written per table; ``{}`` when the key is already in the lake; None when the lock was busy."""
    if not any(rows.values()):
        return {}
    lock_path = lake.root / "ingest.lock"
    lake.root.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as fh:
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
                lake.commit(batch)
            except BaseException:
                batch.abort()
                raise
            return dict(result.rows)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
