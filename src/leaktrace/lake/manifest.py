"""Idempotent, crash-safe writes to the Parquet lake.

A *source* (one file, or one member of an archive) is identified by the SHA-256 of its bytes. Ingesting it
stages Parquet files under ``lake/_staging/<batch>/``; :meth:`Lake.commit` moves them into place and records
them in the manifest (SQLite) in one transaction. Readers only ever see files the manifest lists, so a crash
before the commit leaves nothing visible, and the next run cleans the leftovers and ingests the source again.
Re-ingesting a committed source is a no-op.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from leaktrace.errors import LakeError, Location
from leaktrace.schema import TABLES

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    source_key TEXT NOT NULL,
    tenant TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    rows INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    committed_at REAL NOT NULL,
    PRIMARY KEY (source_key, tenant)
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    table_name TEXT NOT NULL,
    day TEXT NOT NULL,
    rows INTEGER NOT NULL,
    committed_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_table ON files (tenant, table_name);
"""


@dataclass
class StagedBatch:
    """Parquet files being written for one source; nothing is visible until :meth:`Lake.commit`."""

    lake: Lake
    batch_id: str
    tenant: str
    source_key: str
    name: str
    format: str
    staging: Path
    rows: dict[str, int] = field(default_factory=dict)
    _writers: dict[tuple[str, str], pq.ParquetWriter] = field(default_factory=dict)
    _files: dict[tuple[str, str], Path] = field(default_factory=dict)
    _pool: ThreadPoolExecutor | None = None
    _pending: list[Future[None]] = field(default_factory=list)

    def write(self, table_name: str, day: str, data: pa.Table | pa.RecordBatch) -> None:
        """Append rows of ``table_name`` for ``day`` (YYYY-MM-DD).

        Compression and file writes run on one background thread (in order), overlapping with parsing; at
        most a few batches wait, so memory stays bounded. Errors surface here or at :meth:`close_writers`.
        """
        if data.num_rows == 0:
            return
        self.rows[table_name] = self.rows.get(table_name, 0) + data.num_rows
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lake-writer")
        while len(self._pending) >= 2:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._write_now, table_name, day, data))

    def _write_now(self, table_name: str, day: str, data: pa.Table | pa.RecordBatch) -> None:
        key = (table_name, day)
        writer = self._writers.get(key)
        if writer is None:
            rel = Path(f"tenant={self.tenant}") / f"table={table_name}" / f"day={day}" / f"{self.batch_id}.parquet"
            path = self.staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(path, TABLES[table_name], compression="zstd")
            self._writers[key] = writer
            self._files[key] = rel
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        writer.write_table(data)

    def close_writers(self) -> None:
        try:
            while self._pending:
                self._pending.pop(0).result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
            for w in self._writers.values():
                w.close()
            self._writers.clear()

    def file_rows(self) -> Iterator[tuple[str, str, Path, int]]:
        for (table_name, day), rel in self._files.items():
            rows = pq.ParquetFile(self.staging / rel).metadata.num_rows
            yield table_name, day, rel, rows

    def abort(self) -> None:
        with suppress(Exception):  # aborting: the staged files are thrown away anyway
            self.close_writers()
        shutil.rmtree(self.staging, ignore_errors=True)


class Lake:
    """The lake of one workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.staging_root = root / "_staging"
        self.db_path = root / "manifest.sqlite"
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.db_path, timeout=60, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            yield con
        finally:
            con.close()

    # -- writing ---------------------------------------------------------------------------------------------
    def is_ingested(self, source_key: str, tenant: str) -> bool:
        with self._db() as db:
            row = db.execute(
                "SELECT 1 FROM sources WHERE source_key = ? AND tenant = ?", (source_key, tenant)
            ).fetchone()
        return row is not None

    def stage(self, tenant: str, source_key: str, name: str, format: str) -> StagedBatch:
        batch_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}"
        staging = self.staging_root / batch_id
        staging.mkdir(parents=True)
        return StagedBatch(self, batch_id, tenant, source_key, name, format, staging)

    def commit(self, batch: StagedBatch, quarantined: int = 0) -> bool:
        """Make a staged batch visible, atomically. Returns False if the source was committed meanwhile."""
        batch.close_writers()
        files = list(batch.file_rows())
        now = time.time()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                exists = db.execute(
                    "SELECT 1 FROM sources WHERE source_key = ? AND tenant = ?",
                    (batch.source_key, batch.tenant),
                ).fetchone()
                if exists:
                    db.execute("ROLLBACK")
                    batch.abort()
                    return False
                for table_name, day, rel, rows in files:
                    final = self.root / rel
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(batch.staging / rel, final)
                    db.execute(
                        "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (rel.as_posix(), batch.batch_id, batch.tenant, table_name, day, rows, now),
                    )
                total = sum(r for t, _, _, r in files if t != "quarantine")
                db.execute(
                    "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (batch.source_key, batch.tenant, batch.batch_id, batch.name, batch.format, total,
                     quarantined, now),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        shutil.rmtree(batch.staging, ignore_errors=True)
        return True

    def write_table(self, tenant: str, table_name: str, data: pa.Table, key: str, day: str = "all") -> bool:
        """Write one derived table (e.g. findings) as one committed batch keyed by ``key``."""
        if self.is_ingested(key, tenant):
            return False
        batch = self.stage(tenant, key, key, "derived")
        batch.write(table_name, day, data)
        return self.commit(batch)

    def recover(self) -> int:
        """Remove leftovers of interrupted ingests: staging folders and files no manifest row names."""
        removed = 0
        if self.staging_root.exists():
            for d in self.staging_root.iterdir():
                shutil.rmtree(d, ignore_errors=True)
                removed += 1
        known = {p for (p,) in self._query("SELECT path FROM files")}
        for f in self.root.glob("tenant=*/table=*/day=*/*.parquet"):
            if f.relative_to(self.root).as_posix() not in known:
                f.unlink()
                removed += 1
        return removed

    # -- reading ---------------------------------------------------------------------------------------------
    def _query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._db() as db:
            return db.execute(sql, params).fetchall()

    def files(self, table_name: str, tenant: str | None = None, since: float | None = None) -> list[Path]:
        sql = "SELECT path FROM files WHERE table_name = ?"
        params: list[object] = [table_name]
        if tenant is not None:
            sql += " AND tenant = ?"
            params.append(tenant)
        if since is not None:
            sql += " AND committed_at > ?"
            params.append(since)
        return [self.root / str(p) for (p,) in self._query(sql + " ORDER BY path", tuple(params))]

    def row_counts(self, tenant: str | None = None) -> dict[str, int]:
        sql = "SELECT table_name, SUM(rows) FROM files"
        params: tuple[object, ...] = ()
        if tenant is not None:
            sql += " WHERE tenant = ?"
            params = (tenant,)
        rows = self._query(sql + " GROUP BY table_name", params)
        return {str(t): int(n) for t, n in rows}  # type: ignore[call-overload]

    def sources(self, tenant: str | None = None) -> list[dict[str, object]]:
        sql = "SELECT source_key, tenant, name, format, rows, quarantined, committed_at FROM sources"
        params: tuple[object, ...] = ()
        if tenant is not None:
            sql += " WHERE tenant = ?"
            params = (tenant,)
        cols = ["source_key", "tenant", "name", "format", "rows", "quarantined", "committed_at"]
        return [dict(zip(cols, r, strict=True)) for r in self._query(sql, params)]

    def tenants(self) -> list[str]:
        return [str(t) for (t,) in self._query("SELECT DISTINCT tenant FROM files ORDER BY tenant")]

    def check(self) -> None:
        """Raise if a committed file is missing."""
        for (p,) in self._query("SELECT path FROM files"):
            if not (self.root / str(p)).exists():
                raise LakeError("committed file is missing", Location(path=str(self.root / str(p))))
