"""Decode captured frames to the fields flow tracking needs (hand-written with ``struct``: fast, no allocation
of protocol objects). Supported link types: Ethernet (with 802.1Q/QinQ), Linux cooked v1/v2, raw IPv4/IPv6,
BSD loopback/null. IP checksums are not verified: captures taken on the sending host carry offloaded (wrong)
checksums, and their bytes must still be counted.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

LINK_ETHERNET = 1
LINK_NULL = 0
LINK_LOOP = 108
LINK_RAW = 101
LINK_RAW_ALT = (12, 14)
LINK_IPV4 = 228
LINK_IPV6 = 229
LINK_SLL = 113
LINK_SLL2 = 276
SUPPORTED_LINKS = {LINK_ETHERNET, LINK_NULL, LINK_LOOP, LINK_RAW, *LINK_RAW_ALT, LINK_IPV4, LINK_IPV6, LINK_SLL,
                   LINK_SLL2}

TCP, UDP, ICMP, ICMP6 = 6, 17, 1, 58
PROTO_NAMES = {TCP: "tcp", UDP: "udp", ICMP: "icmp", ICMP6: "icmp"}

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

_unpack_h = struct.Struct("!H").unpack_from
_V4: dict[bytes, str] = {}


def _v4(raw: bytes) -> str:
    """Dotted form of a 4-byte address, memoised (captures repeat few addresses many times)."""
    text = _V4.get(raw)
    if text is None:
        if len(_V4) > 1_000_000:
            _V4.clear()
        text = _V4[raw] = socket.inet_ntoa(raw)
    return text
_unpack_tcp = struct.Struct("!HHIIBB").unpack_from
_unpack_udp = struct.Struct("!HH").unpack_from


class Fragment(NamedTuple):
    key: tuple[str, str, int, int]
    offset: int
    more: bool
    header: bytes
    data: bytes


class Packet(NamedTuple):
    src: str
    dst: str
    proto: int
    sport: int
    dport: int
    flags: int
    seq: int
    ack: int
    payload: bytes
    ip_len: int


def _ip_offset(linktype: int, buf: bytes) -> tuple[int, int]:
    """(offset of the IP header, ethertype or 4/6); ethertype 0 when not IP."""
    if linktype == LINK_ETHERNET:
        off = 12
        etype = _unpack_h(buf, off)[0]
        off += 2
        while etype in (0x8100, 0x88A8, 0x9100):
            etype = _unpack_h(buf, off + 2)[0]
            off += 4
        return off, etype
    if linktype == LINK_SLL:
        return 16, _unpack_h(buf, 14)[0]
    if linktype == LINK_SLL2:
        return 20, _unpack_h(buf, 0)[0]
    if linktype in (LINK_RAW, *LINK_RAW_ALT):
        v = buf[0] >> 4
        return 0, 0x0800 if v == 4 else 0x86DD if v == 6 else 0
    if linktype == LINK_IPV4:
        return 0, 0x0800
    if linktype == LINK_IPV6:
        return 0, 0x86DD
    if linktype in (LINK_NULL, LINK_LOOP):
        v = buf[4] >> 4 if len(buf) > 4 else 0
        return 4, 0x0800 if v == 4 else 0x86DD if v == 6 else 0
    return 0, 0


def decode(linktype: int, buf: bytes) -> Packet | Fragment | None:
    """The IP/transport fields of one frame; a :class:`Fragment` for IPv4 fragments; None for non-IP frames.

    Raises ``struct.error``/``IndexError`` on truncated headers (the caller counts those).
    """
    off, etype = _ip_offset(linktype, buf)
    if etype == 0x0800:
        vihl = buf[off]
        ihl = (vihl & 0x0F) * 4
        if vihl >> 4 != 4 or ihl < 20:
            return None
        total = _unpack_h(buf, off + 2)[0]
        frag = _unpack_h(buf, off + 6)[0]
        proto = buf[off + 9]
        src = _v4(buf[off + 12:off + 16])
        dst = _v4(buf[off + 16:off + 20])
        if total == 0:  # TSO: length not filled in
            total = len(buf) - off
        end = min(len(buf), off + total)
        if frag & 0x3FFF:  # MF set or offset > 0
            ident = _unpack_h(buf, off + 4)[0]
            return Fragment((src, dst, proto, ident), (frag & 0x1FFF) * 8, bool(frag & 0x2000),
                            bytes(buf[off:off + ihl]), bytes(buf[off + ihl:end]))
        l4 = off + ihl
    elif etype == 0x86DD:
        plen = _unpack_h(buf, off + 4)[0]
        proto = buf[off + 6]
        src = socket.inet_ntop(socket.AF_INET6, buf[off + 8:off + 24])
        dst = socket.inet_ntop(socket.AF_INET6, buf[off + 24:off + 40])
        l4 = off + 40
        total = plen + 40
        # skip hop-by-hop, routing, destination options; stop at fragments
        while proto in (0, 43, 60):
            nxt = buf[l4]
            l4 += (buf[l4 + 1] + 1) * 8
            proto = nxt
        if proto == 44:
            return None
        end = min(len(buf), off + total)
    else:
        return None
    if proto == TCP:
        sport, dport, seq, ack, doff, flags = _unpack_tcp(buf, l4)
        hdr = (doff >> 4) * 4
        return Packet(src, dst, TCP, sport, dport, flags, seq, ack, bytes(buf[l4 + hdr:end]), total)
    if proto == UDP:
        sport, dport = _unpack_udp(buf, l4)
        return Packet(src, dst, UDP, sport, dport, 0, 0, 0, bytes(buf[l4 + 8:end]), total)
    if proto in (ICMP, ICMP6):
        itype, code = buf[l4], buf[l4 + 1]
        return Packet(src, dst, proto, itype, code, 0, 0, 0, bytes(buf[l4 + 4:end]), total)
    return Packet(src, dst, proto, 0, 0, 0, 0, 0, b"", total)


class Defragmenter:
    """Reassembles IPv4 fragments (in any order); incomplete datagrams are dropped after ``timeout`` s."""

    def __init__(self, timeout: float = 30.0, max_pending: int = 10_000) -> None:
        self.timeout = timeout
        self.max_pending = max_pending
        self.pending: dict[tuple[str, str, int, int], tuple[float, bytes, dict[int, bytes], int | None]] = {}
        self.dropped = 0

    def add(self, ts: float, frag: Fragment) -> bytes | None:
        """The reassembled raw IPv4 datagram once complete, else None."""
        first_ts, header, parts, total = self.pending.get(frag.key, (ts, b"", {}, None))
        if ts - first_ts > self.timeout:
            self.dropped += 1
            first_ts, header, parts, total = ts, b"", {}, None
        parts[frag.offset] = frag.data
        if frag.offset == 0:
            header = frag.header
        if not frag.more:
            total = frag.offset + len(frag.data)
        self.pending[frag.key] = (first_ts, header, parts, total)
        if total is None or not header:
            if len(self.pending) > self.max_pending:
                self.pending.pop(next(iter(self.pending)))
                self.dropped += 1
            return None
        data = bytearray()
        for off in sorted(parts):
            if off > len(data):
                return None  # a hole: wait for the missing fragment
            data[off:off + len(parts[off])] = parts[off]
        if len(data) < total:
            return None
        del self.pending[frag.key]
        hdr = bytearray(header)
        hdr[2:4] = (len(hdr) + total).to_bytes(2, "big")
        hdr[6:8] = b"\x00\x00"
        return bytes(hdr) + bytes(data[:total])


def decode_reassembled(linktype: int, buf: bytes, ts: float, defrag: Defragmenter) -> Packet | Fragment | None:
    """:func:`decode`, with IPv4 fragments handed to ``defrag``: a :class:`Fragment` back means the datagram is
    not complete yet; None means not IP. Malformed frames raise as :func:`decode` does."""
    p = decode(linktype, buf)
    if isinstance(p, Fragment):
        whole = defrag.add(ts, p)
        if whole is None:
            return p
        p = decode(LINK_RAW, whole)
    return p
