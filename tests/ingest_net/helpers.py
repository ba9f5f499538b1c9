"""Builders for the network ingest tests: pcap frames, TLS hellos, NetFlow/IPFIX packets; lake read-back."""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Any

import dpkt
import duckdb

import leaktrace.ingest.net  # noqa: F401  (registers the network ingesters)
from leaktrace.ingest import IngestSummary, ingest_paths
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace

ACK, SYN, FIN, RST, PSH = dpkt.tcp.TH_ACK, dpkt.tcp.TH_SYN, dpkt.tcp.TH_FIN, dpkt.tcp.TH_RST, dpkt.tcp.TH_PUSH


def ingest(ws: Workspace, *paths: Path) -> IngestSummary:
    return ingest_paths(ws, list(paths))


def query(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL over the committed lake files (one view per table)."""
    lake = Lake(ws.lake_dir)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for table in ("conn", "dns", "http", "tls", "net_files", "upload_bursts", "notice", "weird", "other_log",
                  "quarantine"):
        files = [str(f) for f in lake.files(table)]
        if files:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({files!r}, union_by_name=true)")
    return con.execute(sql).fetchall()


class Capture:
    """Writes an Ethernet pcap from hand-made packets."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, bytes]] = []
        self.seq: dict[tuple[str, int, str, int], int] = {}

    def _ip(self, src: str, dst: str, proto: int, l4: Any) -> bytes:
        ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, data=l4, ttl=64)
        ip.len = 20 + len(bytes(l4))
        eth = dpkt.ethernet.Ethernet(src=b"\x00\x01\x02\x03\x04\x05", dst=b"\x00\x01\x02\x03\x04\x06",
                                     type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
        return bytes(eth)

    def tcp(self, ts: float, src: str, sport: int, dst: str, dport: int, flags: int, payload: bytes = b"",
            seq: int | None = None, advance: bool = True) -> None:
        key = (src, sport, dst, dport)
        s = self.seq.setdefault(key, 1000 + sport) if seq is None else seq
        rev = self.seq.get((dst, dport, src, sport), 0)
        tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=s, ack=rev if flags & ACK else 0, flags=flags,
                           win=65535, data=payload)
        self.frames.append((ts, self._ip(src, dst, 6, tcp)))
        if advance and seq is None:
            self.seq[key] = s + len(payload) + (1 if flags & (SYN | FIN) else 0)

    def udp(self, ts: float, src: str, sport: int, dst: str, dport: int, payload: bytes) -> None:
        udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
        udp.ulen = 8 + len(payload)
        self.frames.append((ts, self._ip(src, dst, 17, udp)))

    def icmp(self, ts: float, src: str, dst: str, itype: int, payload: bytes) -> None:
        msg = dpkt.icmp.ICMP(type=itype, code=0, data=dpkt.icmp.ICMP.Echo(id=1, seq=1, data=payload))
        self.frames.append((ts, self._ip(src, dst, 1, msg)))

    def raw(self, ts: float, frame: bytes) -> None:
        self.frames.append((ts, frame))

    def handshake(self, ts: float, c: str, cp: int, s: str, sp: int) -> None:
        self.tcp(ts, c, cp, s, sp, SYN)
        self.tcp(ts + 0.001, s, sp, c, cp, SYN | ACK)
        self.tcp(ts + 0.002, c, cp, s, sp, ACK)

    def close(self, ts: float, c: str, cp: int, s: str, sp: int) -> None:
        self.tcp(ts, c, cp, s, sp, FIN | ACK)
        self.tcp(ts + 0.001, s, sp, c, cp, FIN | ACK)
        self.tcp(ts + 0.002, c, cp, s, sp, ACK)

    def send(self, ts: float, src: str, sport: int, dst: str, dport: int, data: bytes, mss: int = 1400) -> float:
        for i in range(0, len(data), mss):
            self.tcp(ts, src, sport, dst, dport, ACK | PSH, data[i:i + mss])
            ts += 0.0005
        return ts

    def write(self, path: Path) -> Path:
        with path.open("wb") as fh:
            w = dpkt.pcap.Writer(fh, linktype=dpkt.pcap.DLT_EN10MB)
            for ts, frame in self.frames:
                w.writepkt(frame, ts=ts)
        return path


def client_hello(sni: str | None, ciphers: list[int], exts: list[int], groups: list[int], point_formats: list[int],
                 sig_algs: list[int], alpn: list[str], versions: list[int], legacy: int = 0x0303) -> bytes:
    """A TLS record holding a ClientHello with these values (extension bodies built for the ones that matter)."""
    ext_bytes = b""
    for e in exts:
        if e == 0 and sni:
            name = sni.encode()
            body = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
        elif e == 10:
            body = struct.pack("!H", 2 * len(groups)) + b"".join(struct.pack("!H", g) for g in groups)
        elif e == 11:
            body = bytes([len(point_formats)]) + bytes(point_formats)
        elif e == 13:
            body = struct.pack("!H", 2 * len(sig_algs)) + b"".join(struct.pack("!H", s) for s in sig_algs)
        elif e == 16:
            items = b"".join(bytes([len(a)]) + a.encode() for a in alpn)
            body = struct.pack("!H", len(items)) + items
        elif e == 43:
            body = bytes([2 * len(versions)]) + b"".join(struct.pack("!H", v) for v in versions)
        else:
            body = b""
        ext_bytes += struct.pack("!HH", e, len(body)) + body
    hello = (struct.pack("!H", legacy) + b"\x11" * 32 + b"\x20" + b"\x22" * 32
             + struct.pack("!H", 2 * len(ciphers)) + b"".join(struct.pack("!H", c) for c in ciphers)
             + b"\x01\x00" + struct.pack("!H", len(ext_bytes)) + ext_bytes)
    hs = b"\x01" + len(hello).to_bytes(3, "big") + hello
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def server_hello(cipher: int = 0x1301, version: int = 0x0304) -> bytes:
    ext = struct.pack("!HHH", 43, 2, version)
    body = struct.pack("!H", 0x0303) + b"\x33" * 32 + b"\x00" + struct.pack("!HB", cipher, 0) + struct.pack(
        "!H", len(ext)) + ext
    hs = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs + b"\x14\x03\x03\x00\x01\x01"


# -- NetFlow / IPFIX ---------------------------------------------------------------------------------------
def nf_v9(templates: dict[int, list[tuple[int, int]]], data: dict[int, list[bytes]], uptime: int, secs: int,
          source_id: int = 1, seq: int = 0) -> bytes:
    sets = b""
    if templates:
        body = b""
        for tid, fields in templates.items():
            body += struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", t, ln) for t, ln in fields)
        sets += struct.pack("!HH", 0, 4 + len(body)) + body
    count = len(templates)
    for tid, records in data.items():
        body = b"".join(records)
        pad = (-len(body)) % 4
        sets += struct.pack("!HH", tid, 4 + len(body) + pad) + body + b"\x00" * pad
        count += len(records)
    return struct.pack("!HHIIII", 9, count, uptime, secs, seq, source_id) + sets


def ipfix(templates: dict[int, list[tuple[int, int, int]]], data: dict[int, list[bytes]], export_time: int,
          domain: int = 7, seq: int = 0) -> bytes:
    sets = b""
    if templates:
        body = b""
        for tid, fields in templates.items():
            body += struct.pack("!HH", tid, len(fields))
            for eid, ln, pen in fields:
                body += struct.pack("!HH", eid | (0x8000 if pen else 0), ln) + (struct.pack("!I", pen) if pen else b"")
        sets += struct.pack("!HH", 2, 4 + len(body)) + body
    for tid, records in data.items():
        body = b"".join(records)
        sets += struct.pack("!HH", tid, 4 + len(body)) + body
    return struct.pack("!HHIII", 10, 16 + len(sets), export_time, seq, domain) + sets


def nf_v5(records: list[dict[str, Any]], uptime: int, secs: int) -> bytes:
    out = struct.pack("!HHIIIIBBH", 5, len(records), uptime, secs, 0, 0, 0, 0, 0)
    for r in records:
        out += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton(r["src"]), socket.inet_aton(r["dst"]),
                           b"\x00" * 4, 1, 2, r["pkts"], r["bytes"], r["first"], r["last"], r["sport"], r["dport"],
                           0, r.get("flags", 0), r["proto"], 0, 0, 0, 0, 0, 0)
    return out
