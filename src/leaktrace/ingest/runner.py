"""Run an ingest: expand the paths, pick an ingester per source, stage, commit, summarise.

One writer at a time per workspace (a lock file). Leftovers of an interrupted run are removed first. A source
that fails as a whole is reported and skipped; the others go on.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from leaktrace.errors import IngestError, LeaktraceError, Location
from leaktrace.ingest.base import IngestContext, Ingester, SourceResult, ingesters
from leaktrace.ingest.sources import Source, expand
from leaktrace.lake import Lake, StagedBatch
from leaktrace.schema import conform
from leaktrace.workspace import Workspace

HEAD_BYTES = 1 << 16


@dataclass
class SourceOutcome:
    name: str
    status: str  # ingested | already-ingested | unknown-format | failed
    format: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    bad_lines: list[tuple[int | None, str]] = field(default_factory=list)


@dataclass
class IngestSummary:
    sources: list[SourceOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for s in self.sources:
            for t, n in s.rows.items():
                total[t] = total.get(t, 0) + n
        return total

    @property
    def quarantined(self) -> int:
        return sum(s.quarantined for s in self.sources)

    def count(self, status: str) -> int:
        return sum(1 for s in self.sources if s.status == status)


# (event, source name, bytes done, bytes total)
Progress = Callable[[str, str, int, int], None]


@contextmanager
def writer_lock(lake: Lake) -> Iterator[None]:
    lock_path = lake.root / "ingest.lock"
    with lock_path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def pick_ingester(source: Source) -> Ingester | None:
    with source.path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    for _, ingester in ingesters.items():
        if ingester.sniff(head, source.name):
            return ingester
    return None


def _quarantine_table(result: SourceResult, source: Source, ctx: IngestContext) -> pa.Table:
    now = datetime.now(UTC)
    n = len(result.bad)
    return conform(
        "quarantine",
        pa.table(
            {
                "ts": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
                "reason": [b.reason for b in result.bad],
                "raw": [b.raw for b in result.bad],
                "tenant": [ctx.tenant] * n,
                "sensor": [ctx.sensor] * n,
                "source_format": [result.format] * n,
                "source_file": [source.name] * n,
                "source_line": pa.array([b.line for b in result.bad], pa.int64()),
            }
        ),
    )


def ingest_source(lake: Lake, source: Source, ctx: IngestContext) -> SourceOutcome:
    if lake.is_ingested(source.sha256, ctx.tenant):
        return SourceOutcome(source.name, "already-ingested")
    ingester = pick_ingester(source)
    if ingester is None:
        return SourceOutcome(source.name, "unknown-format", notes=["no ingester recognises this file"])
    batch: StagedBatch = lake.stage(ctx.tenant, source.sha256, source.name, ingester.name)
    try:
        result = ingester.read(source, batch, ctx)
        if result.bad:
            batch.write("quarantine", datetime.now(UTC).strftime("%Y-%m-%d"),
                        _quarantine_table(result, source, ctx))
        committed = lake.commit(batch, quarantined=result.bad_count)
    except LeaktraceError:
        batch.abort()
        raise
    except Exception as exc:
        batch.abort()
        raise IngestError(f"{type(exc).__name__}: {exc}", Location(path=source.name)) from exc
    if not committed:
        return SourceOutcome(source.name, "already-ingested", format=ingester.name)
    return SourceOutcome(
        source.name,
        "ingested",
        format=result.format,
        rows=dict(result.rows),
        quarantined=result.bad_count,
        notes=result.notes,
        bad_lines=[(b.line, b.reason) for b in result.bad[:1000]],
    )


def ingest_paths(
    ws: Workspace,
    paths: list[Path],
    tenant: str | None = None,
    sensor: str | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Ingest files, folders and archives into the workspace's lake. Idempotent per source content."""
    started = time.perf_counter()
    lake = Lake(ws.lake_dir)
    summary = IngestSummary()
    tmp = ws.tmp_dir / "ingest"
    with writer_lock(lake):
        lake.recover()
        for item in expand([Path(p) for p in paths], tmp):
            if isinstance(item, IngestError):
                summary.sources.append(SourceOutcome(str(item.where or ""), "failed", error=str(item)))
                continue
            source = item
            ctx = IngestContext(
                tenant=tenant or ws.config.ingest.default_tenant,
                sensor=sensor or ws.config.ingest.sensor,
                batch_rows=ws.config.ingest.batch_rows,
            )
            if progress is not None:
                progress("start", source.name, 0, source.size)
                ctx.on_progress = lambda done, s=source: progress("advance", s.name, done, s.size)
            try:
                outcome = ingest_source(lake, source, ctx)
            except LeaktraceError as exc:
                outcome = SourceOutcome(source.name, "failed", error=str(exc))
            finally:
                source.close()
            if progress is not None:
                progress("done", source.name, source.size, source.size)
            summary.sources.append(outcome)
    summary.seconds = time.perf_counter() - started
    return summary
