"""nfdump CSV (``nfdump -r FILE -o csv``) → ``conn``, through the same record model as the NetFlow collector.

Columns are found by header name (nfdump 1.6 short names ``ts,te,td,sa,da,sp,dp,pr,flg,…,ipkt,ibyt,opkt,obyt``
and the long names of later versions). ``ibyt``/``ipkt`` are the flow's bytes/packets; ``obyt``/``opkt``, when
non-zero, are taken as the reverse direction (nfdump's NSEL/biflow meaning). Times are nfdump's local time,
read as UTC unless ``LEAKTRACE_LOG_TZ`` names a zone. The ``Summary`` block at the end is skipped. Rows with the
wrong number of fields or unreadable values are quarantined with their line numbers.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timezone
from typing import ClassVar
from zoneinfo import ZoneInfo

from leaktrace.ingest.base import IngestContext, SourceResult, ingesters
from leaktrace.ingest.net.common import RowSink
from leaktrace.ingest.net.netflow import FlowRecord, to_conn_rows
from leaktrace.ingest.sources import Source
from leaktrace.lake import StagedBatch

ALIASES = {
    "ts": ("ts", "firstseen", "first", "t_first"), "te": ("te", "lastseen", "last", "t_last"),
    "sa": ("sa", "srcaddr", "src_ip", "srcip"), "da": ("da", "dstaddr", "dst_ip", "dstip"),
    "sp": ("sp", "srcport", "src_port"), "dp": ("dp", "dstport", "dst_port"), "pr": ("pr", "proto", "protocol"),
    "flg": ("flg", "flags", "tcpflags"), "ipkt": ("ipkt", "inpackets", "packets", "pkt"),
    "ibyt": ("ibyt", "inbytes", "bytes", "byt"), "opkt": ("opkt", "outpackets"), "obyt": ("obyt", "outbytes"),
}
PROTOS = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMP6": 58, "GRE": 47, "ESP": 50}
FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20}
CHUNK = 200_000


def _time(text: str, tz: timezone | ZoneInfo) -> float:
    text = text.strip()
    if text.replace(".", "", 1).isdigit():
        return float(text)
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, fmt).replace(tzinfo=tz).timestamp()


def _flags(text: str) -> int | None:
    if not text:
        return None
    if text.startswith("0x"):
        return int(text, 16)
    return sum(FLAG_BITS.get(c, 0) for c in text if c != ".")


class NfdumpCsvIngester:
    name: ClassVar[str] = "nfdump-csv"

    def sniff(self, head: bytes, source_name: str) -> bool:
        first = head.split(b"\n", 1)[0].strip().lower()
        return first.startswith(b"ts,te,td,sa,da") or (b"srcaddr" in first and b"dstaddr" in first and b"," in first)

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult:
        result = SourceResult(format=self.name)
        sink = RowSink(batch.write, result, ctx.tenant, ctx.sensor, self.name, source.name)
        tzname = os.environ.get("LEAKTRACE_LOG_TZ")
        tz: timezone | ZoneInfo = ZoneInfo(tzname) if tzname and tzname.upper() != "UTC" else UTC
        records: list[FlowRecord] = []
        with source.path.open("r", encoding="utf-8", errors="replace", newline="") as f:
            header = next(csv.reader(io.StringIO(f.readline())), [])
            names = [h.strip().lower() for h in header]
            col = {k: next((names.index(a) for a in alts if a in names), -1) for k, alts in ALIASES.items()}
            if min(col["ts"], col["sa"], col["da"]) < 0:
                sink.bad(1, "header lacks ts/sa/da columns", ",".join(header))
                return result
            for line_no, line in enumerate(f, start=2):
                if not line.strip():
                    continue
                if line.startswith("Summary") or line.startswith("flows,"):
                    sink.note(f"summary block from line {line_no} skipped")
                    break
                row = next(csv.reader([line]))
                if len(row) != len(names):
                    sink.bad(line_no, f"{len(row)} fields, the header has {len(names)}", line)
                    continue
                try:
                    rec = self._record(row, col, tz)
                except (ValueError, IndexError, KeyError) as exc:
                    sink.bad(line_no, f"unreadable value: {exc}", line)
                    continue
                rec.line = line_no
                records.append(rec)
                if len(records) >= CHUNK:
                    self._flush(records, sink, source.sha256)
        self._flush(records, sink, source.sha256)
        sink.flush()
        return result

    @staticmethod
    def _record(row: list[str], col: dict[str, int], tz: timezone | ZoneInfo) -> FlowRecord:
        def get(k: str) -> str:
            return row[col[k]].strip() if col[k] >= 0 else ""

        def num(k: str) -> int | None:
            v = get(k)
            if not v:
                return None
            mult = 1
            if v[-1] in "KMG" and " " in v:
                v, unit = v.rsplit(" ", 1)
                mult = {"K": 1000, "M": 1_000_000, "G": 1_000_000_000}[unit[0]]
            return int(float(v) * mult)

        start = _time(get("ts"), tz)
        end = _time(get("te"), tz) if get("te") else start
        pr = get("pr")
        proto = PROTOS.get(pr.upper(), int(pr) if pr.isdigit() else None)
        obyt, opkt = num("obyt"), num("opkt")
        return FlowRecord(
            "nfdump", start, end, get("sa"), get("da"), num("sp"), num("dp"), proto, num("ibyt") or 0,
            num("ipkt") or 0, obyt if obyt else None, opkt if obyt else None, _flags(get("flg")),
            {"version": "nfdump-csv"},
        )

    @staticmethod
    def _flush(records: list[FlowRecord], sink: RowSink, salt: str) -> None:
        for row in to_conn_rows(records, salt):
            sink.add("conn", row)
        records.clear()


ingesters.add("nfdump-csv", NfdumpCsvIngester())
