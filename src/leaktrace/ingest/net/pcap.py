"""pcap and pcapng files → ``conn``, ``dns``, ``http``, ``tls``, ``net_files``, ``upload_bursts``.

Frames are read with dpkt's readers (pcap in any byte order and precision, pcapng) and decoded by
:mod:`.packets`; flows and application metadata come from :mod:`.flows`. ``source_line`` is the 1-based frame
number of a flow's first packet (of the query for DNS rows). Frames that cannot be decoded are counted, and the
first ones quarantined with their frame number; they never stop the ingest.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import dpkt

from leaktrace.ingest.base import IngestContext, SourceResult, ingesters
from leaktrace.ingest.net.common import RowSink, WriteFn
from leaktrace.ingest.net.flows import FlowOptions, FlowTracker
from leaktrace.ingest.net.packets import SUPPORTED_LINKS, Defragmenter, Fragment, decode_reassembled
from leaktrace.ingest.sources import Source
from leaktrace.lake import StagedBatch

PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
MAX_BAD_FRAMES_KEPT = 100


def frames(fh: BinaryIO) -> tuple[int, Iterator[tuple[float, bytes]]]:
    """(link type, iterator of (timestamp, frame)) for a pcap or pcapng file."""
    head = fh.read(24)
    fh.seek(0)
    if head[:4] == PCAPNG_MAGIC:
        reader = dpkt.pcapng.Reader(fh)
        return reader.datalink(), iter(reader)
    if len(head) < 24 or head[:4] not in PCAP_MAGICS:
        raise ValueError("no pcap header")
    return _pcap_frames(fh, head)


def _pcap_frames(fh: BinaryIO, head: bytes) -> tuple[int, Iterator[tuple[float, bytes]]]:
    """Classic pcap, read with ``struct`` directly (several times faster than building dpkt objects)."""
    little = head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    nano = head[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    order = "<" if little else ">"
    linktype = struct.unpack(order + "I", head[20:24])[0] & 0x0FFFFFFF
    rec = struct.Struct(order + "IIII")
    div = 1e9 if nano else 1e6

    def it() -> Iterator[tuple[float, bytes]]:
        fh.seek(24)
        read = fh.read
        unpack = rec.unpack
        while True:
            hdr = read(16)
            if len(hdr) < 16:
                if hdr:
                    raise ValueError("truncated record header")
                return
            sec, frac, caplen, _ = unpack(hdr)
            if caplen > 262_144 * 4:
                raise ValueError(f"implausible record length {caplen}")
            data = read(caplen)
            if len(data) < caplen:
                raise ValueError("truncated record")
            yield sec + frac / div, data

    return linktype, it()


class PcapIngester:
    name: ClassVar[str] = "pcap"

    def __init__(self, options: FlowOptions | None = None) -> None:
        self.options = options or FlowOptions()

    def sniff(self, head: bytes, source_name: str) -> bool:
        return head[:4] in PCAP_MAGICS or head[:4] == PCAPNG_MAGIC

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult:
        result = SourceResult(format=self.name)
        with source.path.open("rb") as fh:
            self.read_stream(fh, batch.write, result, ctx, source.name, source.sha256)
        return result

    def read_stream(self, fh: BinaryIO, write: WriteFn, result: SourceResult, ctx: IngestContext,
                    name: str, salt: str) -> int:
        """Ingest one capture from an open file; returns the number of frames read."""
        sink = RowSink(write, result, ctx.tenant, ctx.sensor, self.name, name)
        tracker = FlowTracker(sink.add, salt, self.options)
        try:
            linktype, it = frames(fh)
        except (ValueError, dpkt.dpkt.Error, struct.error) as exc:
            from leaktrace.errors import IngestError, Location

            raise IngestError(f"not a readable capture: {exc}", Location(path=name)) from None
        if linktype not in SUPPORTED_LINKS:
            sink.note(f"link type {linktype} is not supported: no packets decoded")
            return 0
        idx = 0
        defrag = Defragmenter()
        non_ip = 0
        bad = 0
        try:
            for idx, (ts, buf) in enumerate(it, start=1):
                try:
                    p = decode_reassembled(linktype, buf, float(ts), defrag)
                except (struct.error, IndexError, ValueError, OSError):
                    bad += 1
                    if bad <= MAX_BAD_FRAMES_KEPT:
                        sink.bad(idx, "truncated or malformed frame", bytes(buf[:64]).hex())
                    else:
                        result.bad_count += 1
                    continue
                if isinstance(p, Fragment):  # waiting for the rest of the datagram
                    continue
                if p is None:
                    non_ip += 1
                    continue
                tracker.packet(idx, float(ts), p)
                if ctx.on_progress and idx % 50_000 == 0:
                    ctx.on_progress(fh.tell())
        except (dpkt.dpkt.NeedData, dpkt.dpkt.UnpackError, struct.error, ValueError) as exc:
            sink.note(f"capture truncated after frame {idx}: {exc}")
        tracker.close()
        sink.flush()
        if non_ip:
            sink.note(f"{non_ip} non-IP frames skipped")
        if defrag.pending or defrag.dropped:
            sink.note(f"{len(defrag.pending) + defrag.dropped} IP datagrams left incomplete (missing fragments)")
        if tracker.bad_dns:
            sink.note(f"{tracker.bad_dns} DNS messages could not be parsed")
        if tracker.bad_tls:
            sink.note(f"{tracker.bad_tls} TLS hellos could not be parsed")
        if ctx.on_progress:
            ctx.on_progress(fh.tell())
        return idx


ingesters.add("pcap", PcapIngester())
