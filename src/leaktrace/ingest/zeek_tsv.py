"""Zeek TSV logs: any ``#fields`` set, ``#separator``/``#set_separator``, unset and empty markers,
concatenated and rotated files (several header blocks in one file), labelled logs with extra columns.

The file is memory-mapped and split into segments at header blocks; each segment is parsed by Arrow's CSV
reader in blocks (every field as text), then validated and normalised in DuckDB. Rows with the wrong number
of fields and values that do not fit their Zeek type are quarantined with their line number; the good rows
keep theirs in ``source_line``.
"""

from __future__ import annotations

import io
import mmap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from leaktrace.errors import IngestError, Location
from leaktrace.ingest.base import MAX_KEPT_BAD, BadRecord, IngestContext, SourceResult, ingesters
from leaktrace.ingest.normalise import Normaliser, Provenance, split_days
from leaktrace.ingest.sources import Source
from leaktrace.lake import StagedBatch

BLOCK_SIZE = 16 << 20


@dataclass
class Header:
    separator: str = "\t"
    set_separator: str = ","
    empty: str = "(empty)"
    unset: str = "-"
    path: str | None = None
    fields: list[str] = field(default_factory=list)
    types: list[str] | None = None


@dataclass
class Segment:
    header: Header
    start: int  # byte offset of the first data line
    end: int  # byte offset after the last data line
    first_line: int  # 1-based line number of the first data line


def _unescape(value: str) -> str:
    return value.encode("latin-1", "backslashreplace").decode("unicode_escape")


def _apply_directive(header: Header, line: str) -> Header:
    if line.startswith("#separator"):
        return Header(separator=_unescape(line[len("#separator"):].strip()) or "\t")
    key, _, value = line[1:].partition(header.separator)
    if key == "set_separator":
        header.set_separator = value
    elif key == "empty_field":
        header.empty = value
    elif key == "unset_field":
        header.unset = value
    elif key == "path":
        header.path = value
    elif key == "fields":
        header.fields = value.split(header.separator)
        header.types = None
    elif key == "types":
        header.types = value.split(header.separator)
    return header


def _count_newlines(buf: memoryview, start: int, end: int) -> int:
    total = 0
    step = 64 << 20
    for s in range(start, end, step):
        chunk = np.frombuffer(buf[s:min(end, s + step)], dtype=np.uint8)
        total += int(np.count_nonzero(chunk == 10))
    return total


def scan_segments(mm: mmap.mmap, name: str) -> list[Segment]:
    """Find the header blocks and the data between them."""
    size = len(mm)
    view = memoryview(mm)
    header = Header()
    segments: list[Segment] = []
    pos, line_no = 0, 1
    # (offset, line) of a point whose line number is known; lines after it are counted only if a later
    # data segment needs its first line number (a lone "#close" at the end costs nothing)
    known: tuple[int, int] | None = None
    while pos < size:
        if mm[pos:pos + 1] == b"#":
            end = mm.find(b"\n", pos)
            end = size if end == -1 else end
            text = mm[pos:end].decode("utf-8", "replace").rstrip("\r")
            header = _apply_directive(header, text)
            pos = end + 1
            if known is None:
                line_no += 1
            continue
        if known is not None:
            line_no = known[1] + _count_newlines(view, known[0], pos)
        nxt = mm.find(b"\n#", pos)
        data_end = size if nxt == -1 else nxt + 1
        if not header.fields:
            raise IngestError("data before any #fields header: not a Zeek TSV log", Location(name, line_no))
        segments.append(Segment(_copy_header(header), pos, data_end, line_no))
        known = (pos, line_no)
        pos = data_end
    view.release()
    return segments


def _copy_header(h: Header) -> Header:
    return Header(h.separator, h.set_separator, h.empty, h.unset, h.path, list(h.fields),
                  list(h.types) if h.types else None)


def log_type_from_name(name: str) -> str:
    base = Path(name.split("!/")[-1]).name
    return base.split(".")[0].lower()


class _BadLocator:
    """Finds the line numbers of rows Arrow rejected (it reports their text, not always their number)."""

    def __init__(self, mm: mmap.mmap, seg: Segment) -> None:
        self.mm, self.seg = mm, seg
        self.next_from: dict[bytes, int] = {}
        self.positions: list[int] = []  # 0-based row positions within the segment, sorted lazily
        self.records: list[BadRecord] = []
        self.count = 0
        self._offsets: list[tuple[int, str]] = []

    def handler(self, row: pcsv.InvalidRow) -> str:
        text = row.text or ""
        needle = text.encode("utf-8", "surrogateescape")
        start = self.next_from.get(needle, self.seg.start)
        found = self._find_line(needle, start)
        if found is not None:
            self.next_from[needle] = found + 1
            self._offsets.append((found, text))
        self.count += 1
        return "skip"

    def _find_line(self, needle: bytes, start: int) -> int | None:
        pos = start
        while True:
            hit = self.mm.find(needle, pos, self.seg.end)
            if hit == -1:
                return None
            at_start = hit == self.seg.start or self.mm[hit - 1:hit] == b"\n"
            after = hit + len(needle)
            at_end = after >= self.seg.end or self.mm[after:after + 1] in (b"\n", b"\r")
            if at_start and at_end:
                return hit
            pos = hit + 1

    def resolve(self) -> None:
        """Turn newly found byte offsets into row positions (sorted)."""
        if not self._offsets:
            return
        self._offsets.sort()
        view = memoryview(self.mm)
        prev_off, prev_row = self.seg.start, 0
        known = sorted(self.positions)
        new_rows = []
        for off, text in self._offsets:
            row = prev_row + _count_newlines(view, prev_off, off)
            prev_off, prev_row = off, row
            new_rows.append(row)
            if len(self.records) < MAX_KEPT_BAD:
                self.records.append(BadRecord(self.seg.first_line + row, _reason(text), text[:2000]))
        view.release()
        self._offsets.clear()
        self.positions = sorted(known + new_rows)

    def lines_for(self, first_good: int, n: int) -> np.ndarray:
        """Line numbers of good rows ``first_good .. first_good+n-1`` of the segment."""
        g = np.arange(first_good, first_good + n, dtype=np.int64)
        if self.positions:
            p = np.asarray(self.positions, dtype=np.int64)
            qk = p - np.arange(len(p), dtype=np.int64)  # good rows before each bad row
            g = g + np.searchsorted(qk, g, side="right")
        return g + self.seg.first_line


class _SegmentReader(io.RawIOBase):
    """The bytes ``[start, end)`` of a file as a read-only stream (Arrow reads it block by block, so memory
    stays at a few blocks whatever the file size)."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        super().__init__()
        self._f = path.open("rb")
        self._f.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(b)[: min(len(b), self._left)]
        n = self._f.readinto(view)
        self._left -= n or 0
        return n or 0

    def close(self) -> None:
        self._f.close()
        super().close()


def _reason(text: str) -> str:
    return "empty line" if not text.strip() else "wrong number of fields"


class ZeekTsvIngester:
    name: ClassVar[str] = "zeek-tsv"

    def sniff(self, head: bytes, source_name: str) -> bool:
        return head.startswith(b"#separator") or (head.startswith(b"#") and b"\n#fields" in head)

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult:
        result = SourceResult(format=self.name)
        if source.size == 0:
            result.notes.append("empty file")
            return result
        with source.path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            segments = scan_segments(mm, source.name)
            if hasattr(mmap, "MADV_DONTNEED"):
                # the scan touched every page: hand them back (the data is read again as a stream below;
                # the map stays for locating the rare rejected line)
                mm.madvise(mmap.MADV_DONTNEED)
            for seg in segments:
                with _SegmentReader(source.path, seg.start, seg.end) as stream:
                    self._read_segment(mm, stream, seg, source, batch, ctx, result)
        return result

    def _read_segment(
        self,
        mm: mmap.mmap,
        stream: _SegmentReader,
        seg: Segment,
        source: Source,
        batch: StagedBatch,
        ctx: IngestContext,
        result: SourceResult,
    ) -> None:
        h = seg.header
        log_type = (h.path or log_type_from_name(source.name)).lower()
        names = [f"c{i}" for i in range(len(h.fields))]
        locator = _BadLocator(mm, seg)
        normaliser = Normaliser(
            log_type, h.fields, h.types, Provenance(ctx.tenant, ctx.sensor, self.name, source.name), h.empty
        )
        if not normaliser.known:
            note = f"log type '{log_type}' is not modelled: kept in other_log"
            if note not in result.notes:
                result.notes.append(note)
        reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(column_names=names, block_size=BLOCK_SIZE, use_threads=True),
            parse_options=pcsv.ParseOptions(
                delimiter=h.separator, quote_char=False, escape_char=False, newlines_in_values=False,
                ignore_empty_lines=False, invalid_row_handler=locator.handler,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=[h.unset], strings_can_be_null=True, quoted_strings_can_be_null=False,
            ),
        )
        good_seen = 0
        consumed = seg.start
        try:
            for rb in reader:
                if rb.num_rows == 0:
                    continue
                locator.resolve()
                lines = locator.lines_for(good_seen, rb.num_rows)
                good_seen += rb.num_rows
                raw = pa.Table.from_batches([rb]).rename_columns(h.fields)
                raw = raw.append_column("_line", pa.array(lines, pa.int64()))
                self._normalise(normaliser, raw, batch, result)
                consumed = min(seg.end, consumed + rb.nbytes)
                if ctx.on_progress:
                    ctx.on_progress(consumed)
            locator.resolve()
        except pa.ArrowInvalid as exc:
            raise IngestError(f"cannot parse as Zeek TSV: {exc}", Location(source.name, seg.first_line)) from None
        finally:
            normaliser.close()
        for rec in locator.records:
            result.bad.append(rec)
        result.bad_count += locator.count
        if ctx.on_progress:
            ctx.on_progress(seg.end)

    @staticmethod
    def _normalise(normaliser: Normaliser, raw: pa.Table, batch: StagedBatch, result: SourceResult) -> None:
        out, bad = normaliser.run(raw)
        for table_name, rows in out.items():
            for day, part in split_days(table_name, rows):
                batch.write(table_name, day, part)
                result.rows[table_name] = result.rows.get(table_name, 0) + part.num_rows
        if bad.num_rows:
            result.bad_count += bad.num_rows
            if len(result.bad) < MAX_KEPT_BAD:
                line_col = raw.column("_line")
                for line, reason in zip(bad.column("_line").to_pylist(), bad.column("reason").to_pylist(),
                                        strict=True):
                    raw_text = _raw_line(raw, line_col, line)
                    result.bad.append(BadRecord(line, reason, raw_text))


def _raw_line(raw: pa.Table, line_col: pa.ChunkedArray, line: int) -> str:
    import pyarrow.compute as pc

    idx = pc.index(line_col, line).as_py()
    if idx is None or idx < 0:
        return ""
    row = raw.slice(idx, 1).to_pylist()[0]
    return "\t".join("-" if v is None else str(v) for k, v in row.items() if k != "_line")[:2000]


ingesters.add("zeek-tsv", ZeekTsvIngester())
