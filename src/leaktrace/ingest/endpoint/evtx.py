"""Windows EVTX files (binary event logs), read with the Rust parser ``evtx`` (pyevtx-rs).

Each record is rendered to JSON by the parser (the same shape as ``evtx_dump -o json``) and mapped like
the JSON sources. ``source_line`` is the record's position in the file (1-based); the event's own
``EventRecordID`` goes to ``record_id`` / extra. A record the parser cannot render is quarantined with its
position; the others go on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from leaktrace.errors import IngestError, Location
from leaktrace.ingest.base import IngestContext, SourceResult, ingesters
from leaktrace.ingest.endpoint.sink import FLUSH_ROWS, RowSink
from leaktrace.ingest.endpoint.values import JSONDecodeError, loads, micros
from leaktrace.ingest.endpoint.winevent import from_evtx_json
from leaktrace.ingest.endpoint.winmap import MapState, map_event
from leaktrace.ingest.sources import Source
from leaktrace.lake import StagedBatch

MAGIC = b"ElfFile\x00"
# stop after this many consecutive unreadable records (the file is damaged beyond this point)
MAX_CONSECUTIVE_ERRORS = 1000


def evtx_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """``(position, record or None, error)`` for every record of an EVTX file."""
    try:
        from evtx import PyEvtxParser
    except ImportError as exc:  # pragma: no cover - the dependency is declared
        raise IngestError("reading EVTX needs the 'evtx' package (pip install evtx)", Location(str(path))) from exc
    try:
        parser = PyEvtxParser(str(path))
    except (OSError, RuntimeError) as exc:
        raise IngestError(f"not a readable EVTX file: {exc}", Location(str(path))) from exc
    records = iter(parser.records_json())
    position, errors = 0, 0
    while True:
        position += 1
        try:
            record = next(records)
        except StopIteration:
            return
        except Exception as exc:  # the parser raises plain RuntimeErrors for bad records
            errors += 1
            yield position, None, f"unreadable EVTX record: {exc}"[:200]
            if errors >= MAX_CONSECUTIVE_ERRORS:
                return
            continue
        errors = 0
        yield position, record, ""


def read_evtx(source: Source, sink: RowSink, ctx: IngestContext) -> None:
    state = MapState()
    for position, record, error in evtx_records(source.path):
        if record is None:
            sink.bad(position, error, "")
            continue
        raw = record.get("data") or ""
        try:
            obj = loads(raw)
        except (JSONDecodeError, ValueError) as exc:
            sink.bad(position, f"record is not JSON: {exc}", raw)
            continue
        ev = from_evtx_json(obj)
        ts = micros(ev.ts_raw) or micros(record.get("timestamp"))
        if ts is None:
            sink.bad(position, "no readable event time", raw)
            continue
        map_event(ev, ts, position, sink, state)
        if position % 50_000 == 0 and ctx.on_progress:
            ctx.on_progress(int(source.size * 0.99))
    if ctx.on_progress:
        ctx.on_progress(source.size)


class EvtxIngester:
    name: ClassVar[str] = "evtx"

    def sniff(self, head: bytes, source_name: str) -> bool:
        return head.startswith(MAGIC)

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult:
        result = SourceResult(format=self.name)
        prov = {"tenant": ctx.tenant, "sensor": ctx.sensor, "source_format": self.name, "source_file": source.name}
        sink = RowSink(batch, result, prov, flush_rows=min(ctx.batch_rows, FLUSH_ROWS))
        read_evtx(source, sink, ctx)
        sink.flush()
        return result


ingesters.add(EvtxIngester.name, EvtxIngester())
