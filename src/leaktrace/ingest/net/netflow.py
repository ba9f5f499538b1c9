"""NetFlow v5, v9 and IPFIX (v10) decoding, and flow records → ``conn`` rows.

Templates (v9, IPFIX) are kept per (exporter address, version, source id / observation domain, template id).
Data sets whose template has not arrived yet are held (up to ``HOLD_MAX`` sets per exporter) and decoded when
it does. Options templates are learnt so their data sets are skipped, not counted as unknown.

Counters: NetFlow/IPFIX octets are IP bytes (headers included): they go to ``ip_bytes_*``, and ``bytes_*``
holds an estimate of the payload (IP bytes minus 40 per TCP packet / 28 per UDP packet, at least 0;
``extra.bytes_estimated``). Biflow records (RFC 5103 reverse elements, enterprise 29305; or
initiator/responder octets 231/232) fill both directions. Unidirectional records of the two directions of one
connection that overlap in time within one batch are stitched into one row; the originator is the side that
started first (on a tie, the one using the higher port).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Any

from leaktrace.ingest.net.common import Row, stable_id, to_json

REVERSE_PEN = 29305
HOLD_MAX = 256
PROTO = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp", 47: "gre", 50: "esp"}


class NetflowError(ValueError):
    pass


@dataclass
class FlowRecord:
    exporter: str
    start: float
    end: float
    src_ip: str | None
    dst_ip: str | None
    src_port: int | None
    dst_port: int | None
    proto: int | None
    octets: int = 0
    packets: int = 0
    rev_octets: int | None = None
    rev_packets: int | None = None
    tcp_flags: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    line: int | None = None  # line of the record in a file source


Template = list[tuple[int, int, int]]  # (element id, length, enterprise number)


def _uint(b: bytes) -> int:
    return int.from_bytes(b, "big")


def _ip(b: bytes) -> str:
    return str(ipaddress.ip_address(b))


class NetflowDecoder:
    """Stateful decoder: feed it export packets with :meth:`decode`."""

    def __init__(self) -> None:
        self.templates: dict[tuple[Any, ...], Template] = {}
        self.options: set[tuple[Any, ...]] = set()
        self.held: dict[tuple[Any, ...], list[tuple[bytes, dict[str, Any]]]] = {}
        self.unknown_sets = 0
        self.packets = 0

    def decode(self, data: bytes, exporter: str) -> list[FlowRecord]:
        if len(data) < 4:
            raise NetflowError("shorter than a NetFlow header")
        version = struct.unpack_from("!H", data, 0)[0]
        self.packets += 1
        if version == 5:
            return self._v5(data, exporter)
        if version == 9:
            return self._v9(data, exporter)
        if version == 10:
            return self._ipfix(data, exporter)
        raise NetflowError(f"unsupported NetFlow version {version}")

    # -- v5 ----------------------------------------------------------------------------------------------
    def _v5(self, data: bytes, exporter: str) -> list[FlowRecord]:
        if len(data) < 24:
            raise NetflowError("truncated v5 header")
        _, count, uptime, secs, nsecs = struct.unpack_from("!HHIII", data, 0)
        if len(data) < 24 + 48 * count:
            raise NetflowError("truncated v5 records")
        now = secs + nsecs / 1e9
        out = []
        for i in range(count):
            o = 24 + 48 * i
            (src, dst, _nh, inp, outp, pkts, octets, first, last, sport, dport, _p1, flags, proto, tos,
             src_as, dst_as) = struct.unpack_from("!4s4s4sHHIIIIHHBBBBHH", data, o)
            out.append(FlowRecord(
                exporter, now - (uptime - first) / 1000.0, now - (uptime - last) / 1000.0, _ip(src), _ip(dst),
                sport, dport, proto, octets, pkts, tcp_flags=flags,
                extra={"version": 5, "in_if": inp, "out_if": outp, "tos": tos, "src_as": src_as, "dst_as": dst_as},
            ))
        return out

    # -- v9 ----------------------------------------------------------------------------------------------
    def _v9(self, data: bytes, exporter: str) -> list[FlowRecord]:
        if len(data) < 20:
            raise NetflowError("truncated v9 header")
        _, _count, uptime, secs, _seq, source_id = struct.unpack_from("!HHIIII", data, 0)
        ctx = {"version": 9, "uptime": uptime, "secs": float(secs)}
        return self._sets(data, 20, exporter, 9, source_id, ctx, template_id=0, options_id=1)

    # -- IPFIX -------------------------------------------------------------------------------------------
    def _ipfix(self, data: bytes, exporter: str) -> list[FlowRecord]:
        if len(data) < 16:
            raise NetflowError("truncated IPFIX header")
        _, length, export_time, _seq, domain = struct.unpack_from("!HHIII", data, 0)
        ctx = {"version": 10, "secs": float(export_time)}
        return self._sets(data[:length], 16, exporter, 10, domain, ctx, template_id=2, options_id=3)

    def _sets(self, data: bytes, pos: int, exporter: str, version: int, domain: int, ctx: dict[str, Any],
              template_id: int, options_id: int) -> list[FlowRecord]:
        out: list[FlowRecord] = []
        while pos + 4 <= len(data):
            set_id, length = struct.unpack_from("!HH", data, pos)
            if length < 4 or pos + length > len(data):
                raise NetflowError(f"bad set length {length} at offset {pos}")
            body = data[pos + 4:pos + length]
            pos += length
            if set_id == template_id:
                for tid in self._templates(body, exporter, version, domain, ipfix=version == 10):
                    out.extend(self._release(exporter, version, domain, tid))
            elif set_id == options_id:
                self._options_template(body, exporter, version, domain)
            elif set_id >= 256:
                key = (exporter, version, domain, set_id)
                if key in self.options:
                    continue
                template = self.templates.get(key)
                if template is None:
                    held = self.held.setdefault(key, [])
                    if len(held) < HOLD_MAX:
                        held.append((body, dict(ctx)))
                    else:
                        self.unknown_sets += 1
                    continue
                out.extend(self._data(body, template, exporter, ctx))
        return out

    def _templates(self, body: bytes, exporter: str, version: int, domain: int, ipfix: bool) -> list[int]:
        pos = 0
        ids = []
        while pos + 4 <= len(body):
            tid, count = struct.unpack_from("!HH", body, pos)
            pos += 4
            if tid < 256:
                break
            fields: Template = []
            for _ in range(count):
                etype, length = struct.unpack_from("!HH", body, pos)
                pos += 4
                pen = 0
                if ipfix and etype & 0x8000:
                    pen = struct.unpack_from("!I", body, pos)[0]
                    pos += 4
                    etype &= 0x7FFF
                fields.append((etype, length, pen))
            self.templates[(exporter, version, domain, tid)] = fields
            self.options.discard((exporter, version, domain, tid))
            ids.append(tid)
        return ids

    def _options_template(self, body: bytes, exporter: str, version: int, domain: int) -> None:
        if len(body) >= 2:
            tid = struct.unpack_from("!H", body, 0)[0]
            if tid >= 256:
                self.options.add((exporter, version, domain, tid))
                self.held.pop((exporter, version, domain, tid), None)

    def _release(self, exporter: str, version: int, domain: int, tid: int) -> list[FlowRecord]:
        key = (exporter, version, domain, tid)
        out: list[FlowRecord] = []
        for body, ctx in self.held.pop(key, []):
            out.extend(self._data(body, self.templates[key], exporter, ctx))
        return out

    def _data(self, body: bytes, template: Template, exporter: str, ctx: dict[str, Any]) -> list[FlowRecord]:
        fixed = all(length != 0xFFFF for _, length, _ in template)
        min_len = sum(length for _, length, _ in template if length != 0xFFFF) or 1
        out = []
        pos = 0
        while len(body) - pos >= min_len:
            values: dict[tuple[int, int], bytes] = {}
            for etype, length, pen in template:
                if length == 0xFFFF:
                    length = body[pos]
                    pos += 1
                    if length == 255:
                        length = struct.unpack_from("!H", body, pos)[0]
                        pos += 2
                values[(pen, etype)] = body[pos:pos + length]
                pos += length
            if pos > len(body):
                break
            rec = self._record(values, exporter, ctx)
            if rec is not None:
                out.append(rec)
            if fixed and len(body) - pos < min_len:
                break
        return out

    @staticmethod
    def _record(v: dict[tuple[int, int], bytes], exporter: str, ctx: dict[str, Any]) -> FlowRecord | None:
        def num(pen: int, eid: int) -> int | None:
            b = v.get((pen, eid))
            return _uint(b) if b is not None and len(b) else None

        src = v.get((0, 8)) or v.get((0, 27))
        dst = v.get((0, 12)) or v.get((0, 28))
        start = end = None
        if (ms := num(0, 152)) is not None:
            start = ms / 1000.0
        elif (s := num(0, 150)) is not None:
            start = float(s)
        if (ms := num(0, 153)) is not None:
            end = ms / 1000.0
        elif (s := num(0, 151)) is not None:
            end = float(s)
        first, last = num(0, 22), num(0, 21)
        if start is None and first is not None:
            if "uptime" in ctx:
                start = ctx["secs"] - (ctx["uptime"] - first) / 1000.0
            elif (init := num(0, 160)) is not None:
                start = (init + first) / 1000.0
        if end is None and last is not None:
            if "uptime" in ctx:
                end = ctx["secs"] - (ctx["uptime"] - last) / 1000.0
            elif (init := num(0, 160)) is not None:
                end = (init + last) / 1000.0
        start = start if start is not None else ctx["secs"]
        end = end if end is not None else start
        octets = num(0, 1) or num(0, 85) or num(0, 231) or 0
        packets = num(0, 2) or num(0, 86) or num(0, 298) or 0
        rev_octets = num(REVERSE_PEN, 1) or num(REVERSE_PEN, 85) or num(0, 232)
        rev_packets = num(REVERSE_PEN, 2) or num(REVERSE_PEN, 86) or num(0, 299)
        extra = {"version": ctx["version"], "in_if": num(0, 10), "out_if": num(0, 14), "end_reason": num(0, 136),
                 "direction": num(0, 61)}
        return FlowRecord(
            exporter, start, end, _ip(src) if src and len(src) in (4, 16) else None,
            _ip(dst) if dst and len(dst) in (4, 16) else None, num(0, 7), num(0, 11), num(0, 4), octets, packets,
            rev_octets, rev_packets, num(0, 6), {k: x for k, x in extra.items() if x is not None},
        )


def _payload(octets: int | None, packets: int | None, proto: int | None) -> int | None:
    if octets is None:
        return None
    hdr = 40 if proto == 6 else 28 if proto == 17 else 20
    return max(0, octets - hdr * (packets or 0))


_FLAG_NAMES = [(0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x10, "A"), (0x20, "U")]


def _state(proto: int | None, fwd_flags: int | None, rev_flags: int | None, has_reverse: bool) -> str | None:
    if proto == 17:
        return "SF" if has_reverse else "S0"
    if proto != 6 or fwd_flags is None:
        return None
    if not has_reverse:
        return "RSTOS0" if fwd_flags & 0x04 else "S0"
    rf = rev_flags or 0
    if rf & 0x04 and not rf & 0x10:
        return "REJ"
    if (fwd_flags | rf) & 0x04:
        return "RSTO" if fwd_flags & 0x04 else "RSTR"
    if fwd_flags & 0x01 and rf & 0x01:
        return "SF"
    return "S1"


def _flags(f: int | None) -> str | None:
    return "".join(n for bit, n in _FLAG_NAMES if f is not None and f & bit) or None


def stitch(records: list[FlowRecord]) -> list[tuple[FlowRecord, FlowRecord | None]]:
    """Pair the two directions of unidirectional records (see the module doc)."""
    by_key: dict[tuple[Any, ...], list[int]] = {}
    for i, r in enumerate(records):
        by_key.setdefault((r.exporter, r.proto, r.src_ip, r.src_port, r.dst_ip, r.dst_port), []).append(i)
    used: set[int] = set()
    out: list[tuple[FlowRecord, FlowRecord | None]] = []
    for i, r in enumerate(records):
        if i in used:
            continue
        used.add(i)
        if r.rev_octets is not None:
            out.append((r, None))
            continue
        partner = None
        for j in by_key.get((r.exporter, r.proto, r.dst_ip, r.dst_port, r.src_ip, r.src_port), []):
            o = records[j]
            if j not in used and o.rev_octets is None and o.start <= r.end + 1 and r.start <= o.end + 1:
                partner = j
                break
        if partner is None:
            out.append((r, None))
            continue
        used.add(partner)
        o = records[partner]
        if (o.start, -(o.src_port or 0)) < (r.start, -(r.src_port or 0)):
            r, o = o, r
        out.append((r, o))
    return out


def to_conn_rows(records: list[FlowRecord], salt: str = "") -> list[Row]:
    """``conn`` rows (without provenance) for decoded records, stitching the two directions."""
    rows = []
    for fwd, rev in stitch(records):
        rev_oct = rev.octets if rev is not None else fwd.rev_octets
        rev_pkt = rev.packets if rev is not None else fwd.rev_packets
        start = min(fwd.start, rev.start) if rev is not None else fwd.start
        end = max(fwd.end, rev.end) if rev is not None else fwd.end
        rev_flags = rev.tcp_flags if rev is not None else None
        has_rev = bool(rev_pkt)
        hist = (_flags(fwd.tcp_flags) or "") + (_flags(rev_flags) or "").lower()
        rows.append({
            "ts": start, "uid": stable_id("C", salt, fwd.exporter, fwd.src_ip, fwd.src_port, fwd.dst_ip,
                                          fwd.dst_port, fwd.proto, fwd.start),
            "src_ip": fwd.src_ip, "src_port": fwd.src_port, "dst_ip": fwd.dst_ip, "dst_port": fwd.dst_port,
            "proto": PROTO.get(fwd.proto or -1, str(fwd.proto)), "duration": max(0.0, end - start),
            "bytes_out": _payload(fwd.octets, fwd.packets, fwd.proto),
            "bytes_in": _payload(rev_oct, rev_pkt, fwd.proto) if rev_oct is not None else 0,
            "pkts_out": fwd.packets, "pkts_in": rev_pkt or 0, "ip_bytes_out": fwd.octets,
            "ip_bytes_in": rev_oct or 0, "state": _state(fwd.proto, fwd.tcp_flags, rev_flags, has_rev),
            "history": hist or None, "source_line": fwd.line,
            "extra": to_json({**fwd.extra, "exporter": fwd.exporter, "bytes_estimated": True,
                              "stitched": rev is not None or None}),
        })
    return rows
