"""Windows event logs as JSON: one object a line (Winlogbeat, NXLog, OTRF, the simulator), or a stream of
pretty-printed objects / a JSON array (``evtx_dump`` output, SigmaHQ regression samples).

A line (or object) that is not JSON, not a Windows event, or has no readable time is quarantined with its
line number; the rest of the source goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

from leaktrace.ingest.base import IngestContext, SourceResult, ingesters
from leaktrace.ingest.endpoint.sink import FLUSH_ROWS, RowSink
from leaktrace.ingest.endpoint.values import JSONDecodeError, loads, micros
from leaktrace.ingest.endpoint.winevent import from_object
from leaktrace.ingest.endpoint.winmap import MapState, map_event
from leaktrace.ingest.sources import Source
from leaktrace.lake import StagedBatch

MARKERS = (b'"EventID"', b'"winlog"', b'"EventRecordID"', b'"event_data"', b'"computer_name"', b'"provider_name"')
# pretty-printed sources are read whole; larger ones must be JSON lines
MAX_PRETTY_BYTES = 1 << 30


def looks_like_windows_json(head: bytes) -> bool:
    body = head.lstrip()
    if body[:1] not in (b"{", b"["):
        return False
    first = body.split(b"\n", 1)[0] if body[:1] == b"{" and body.find(b"\n") > 2 else body[:16384]
    if b'"event_type"' in first or b'"_path"' in first:
        return False
    return any(m in first for m in MARKERS) or (b'"System"' in first and b'"Provider"' in first)


def _is_json_lines(path: Any) -> bool:
    """True when one of the first non-empty lines is a whole JSON object (a bad first line is tolerated)."""
    tried = 0
    with path.open("rb") as f:
        for raw in f:
            line = raw.strip()
            if not line:
                continue
            if tried == 0 and not line.startswith(b"{"):
                return False
            tried += 1
            try:
                if isinstance(loads(line), dict):
                    return True
            except (JSONDecodeError, ValueError):
                pass
            if tried >= 5:
                return False
    return tried == 0


def _objects_lines(path: Any, ctx: IngestContext, sink: RowSink) -> Iterator[tuple[int, Any, bytes]]:
    consumed = 0
    with path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            consumed += len(raw)
            if line_no % 50_000 == 0 and ctx.on_progress:
                ctx.on_progress(consumed)
            line = raw.strip()
            if not line:
                continue
            try:
                yield line_no, loads(line), raw
            except (JSONDecodeError, ValueError) as exc:
                sink.bad(line_no, f"not JSON: {exc}", raw.decode("utf-8", "replace"))
    if ctx.on_progress:
        ctx.on_progress(consumed)


def _objects_stream(path: Any, ctx: IngestContext, sink: RowSink) -> Iterator[tuple[int, Any, bytes]]:
    """Concatenated (pretty-printed) JSON values, or one array of them."""
    if path.stat().st_size > MAX_PRETTY_BYTES:
        sink.bad(None, "pretty-printed JSON larger than 1 GiB: convert it to JSON lines", "")
        return
    data = path.read_bytes().decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    pos, n, line_no = 0, len(data), 1
    while pos < n:
        while pos < n and data[pos] in " \t\r\n,":
            if data[pos] == "\n":
                line_no += 1
            pos += 1
        if pos >= n:
            break
        start_line = line_no
        try:
            value, end = decoder.raw_decode(data, pos)
        except json.JSONDecodeError as exc:
            nxt = data.find("\n{", pos + 1)
            end = n if nxt < 0 else nxt + 1
            sink.bad(start_line, f"not JSON: {exc.msg}", data[pos:end][:2000])
        else:
            chunk = data[pos:end]
            if isinstance(value, list):
                for item in value:
                    yield start_line, item, chunk.encode()[:2000]
            else:
                yield start_line, value, b""
        line_no += data.count("\n", pos, end)
        pos = end
    if ctx.on_progress:
        ctx.on_progress(len(data))


def read_windows_json(source: Source, sink: RowSink, ctx: IngestContext) -> None:
    objects = _objects_lines if _is_json_lines(source.path) else _objects_stream
    state = MapState()
    for line_no, obj, raw in objects(source.path, ctx, sink):
        ev = from_object(obj) if isinstance(obj, dict) else None
        if ev is None:
            sink.bad(line_no, "not a Windows event (no EventID / winlog / Event.System)",
                     raw.decode("utf-8", "replace") or json.dumps(obj)[:2000])
            continue
        ts = micros(ev.ts_raw)
        if ts is None:
            sink.bad(line_no, f"no readable event time: {str(ev.ts_raw)[:60]!r}",
                     raw.decode("utf-8", "replace") or json.dumps(obj)[:2000])
            continue
        map_event(ev, ts, line_no, sink, state)


class WindowsJsonIngester:
    name: ClassVar[str] = "windows-json"

    def sniff(self, head: bytes, source_name: str) -> bool:
        return looks_like_windows_json(head)

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult:
        result = SourceResult(format=self.name)
        prov = _provenance(ctx, self.name, source.name)
        sink = RowSink(batch, result, prov, flush_rows=min(ctx.batch_rows, FLUSH_ROWS))
        read_windows_json(source, sink, ctx)
        sink.flush()
        return result


def _provenance(ctx: IngestContext, fmt: str, name: str) -> dict[str, str]:
    return {"tenant": ctx.tenant, "sensor": ctx.sensor, "source_format": fmt, "source_file": name}


ingesters.add(WindowsJsonIngester.name, WindowsJsonIngester())
