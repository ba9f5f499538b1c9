"""A small, tolerant DNS wire-format parser (RFC 1035), for pcaps and DNS-over-HTTPS messages.

Names are given in presentation form: printable ASCII as is, other bytes as ``\\DDD`` (as CoreDNS and BIND
print them), so tunnels with binary labels (iodine) keep every byte. Raises :class:`DnsError` on a
malformed message.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

QTYPES = {
    1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 28: "AAAA",
    33: "SRV", 35: "NAPTR", 39: "DNAME", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
    64: "SVCB", 65: "HTTPS", 99: "SPF", 255: "*", 252: "AXFR", 251: "IXFR", 257: "CAA",
}
QTYPE_CODES = {v: k for k, v in QTYPES.items()} | {"ANY": 255}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN",
          7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE"}
QCLASSES = {1: "C_INTERNET", 3: "C_CHAOS", 4: "C_HESIOD", 254: "C_NONE", 255: "C_ANY"}


class DnsError(ValueError):
    pass


@dataclass
class Answer:
    name: str
    rtype: str
    ttl: int
    data: str


@dataclass
class DnsMessage:
    id: int
    is_response: bool
    opcode: int
    rcode: str
    aa: bool
    tc: bool
    rd: bool
    ra: bool
    qname: str | None
    qtype: str | None
    qclass: str | None
    answers: list[Answer] = field(default_factory=list)


def qtype_name(code: int) -> str:
    return QTYPES.get(code, f"TYPE{code}")


_PLAIN = re.compile(rb"[^\x21-\x2d\x2f-\x5b\x5d-\x7e]")


def _label_text(raw: bytes) -> str:
    if _PLAIN.search(raw) is None:
        return raw.decode("ascii")
    out = []
    for b in raw:
        if 0x21 <= b <= 0x7E and b not in (0x2E, 0x5C):
            out.append(chr(b))
        elif b == 0x2E:
            out.append("\\.")
        else:
            out.append(f"\\{b:03d}")
    return "".join(out)


def read_name(buf: bytes, pos: int) -> tuple[str, int]:
    """The name at ``pos`` and the offset just after it (compression pointers followed, loops refused)."""
    labels: list[str] = []
    end = -1
    jumps = 0
    n = len(buf)
    while True:
        if pos >= n:
            raise DnsError("name runs past the end")
        length = buf[pos]
        if length == 0:
            pos += 1
            break
        if length & 0xC0 == 0xC0:
            if pos + 1 >= n:
                raise DnsError("truncated pointer")
            if end < 0:
                end = pos + 2
            pos = ((length & 0x3F) << 8) | buf[pos + 1]
            jumps += 1
            if jumps > 64:
                raise DnsError("compression loop")
            continue
        if length & 0xC0:
            raise DnsError("bad label type")
        if pos + 1 + length > n:
            raise DnsError("label runs past the end")
        labels.append(_label_text(buf[pos + 1:pos + 1 + length]))
        pos += 1 + length
    return ".".join(labels), (end if end >= 0 else pos)


def _txt(rdata: bytes) -> str:
    parts = []
    i = 0
    while i < len(rdata):
        ln = rdata[i]
        parts.append(rdata[i + 1:i + 1 + ln].decode("latin-1"))
        i += 1 + ln
    return "".join(parts)


def _rdata(buf: bytes, rtype: int, start: int, length: int) -> str:
    rd = buf[start:start + length]
    if rtype == 1 and length == 4:
        return ".".join(str(b) for b in rd)
    if rtype == 28 and length == 16:
        import ipaddress

        return str(ipaddress.IPv6Address(rd))
    if rtype in (2, 5, 12, 39):
        return read_name(buf, start)[0]
    if rtype == 15 and length >= 3:
        return read_name(buf, start + 2)[0]
    if rtype == 16:
        return _txt(rd)
    if rtype == 33 and length >= 7:
        return read_name(buf, start + 6)[0]
    if rtype == 6:
        return read_name(buf, start)[0]
    return rd.hex()


def parse(buf: bytes) -> DnsMessage:
    """Parse one DNS message (without the TCP length prefix)."""
    if len(buf) < 12:
        raise DnsError("shorter than a DNS header")
    ident, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", buf, 0)
    if qd > 16 or an > 512:
        raise DnsError("implausible record counts")
    pos = 12
    qname = qtype = qclass = None
    for i in range(qd):
        name, pos = read_name(buf, pos)
        if pos + 4 > len(buf):
            raise DnsError("truncated question")
        t, c = struct.unpack_from("!HH", buf, pos)
        pos += 4
        if i == 0:
            qname, qtype, qclass = name, qtype_name(t), QCLASSES.get(c & 0x7FFF, str(c))
    msg = DnsMessage(
        id=ident, is_response=bool(flags & 0x8000), opcode=(flags >> 11) & 0xF, rcode=RCODES.get(flags & 0xF,
        str(flags & 0xF)), aa=bool(flags & 0x400), tc=bool(flags & 0x200), rd=bool(flags & 0x100),
        ra=bool(flags & 0x80), qname=qname, qtype=qtype, qclass=qclass,
    )
    for _ in range(an):
        name, pos = read_name(buf, pos)
        if pos + 10 > len(buf):
            raise DnsError("truncated answer")
        t, _c, ttl, rdlen = struct.unpack_from("!HHIH", buf, pos)
        pos += 10
        if pos + rdlen > len(buf):
            raise DnsError("truncated rdata")
        msg.answers.append(Answer(name, qtype_name(t), ttl, _rdata(buf, t, pos, rdlen)))
        pos += rdlen
    return msg


def build_query(name: str, qtype: str = "A", ident: int = 0) -> bytes:
    """A minimal query message (tests, DoH)."""
    out = bytearray(struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0))
    for label in name.rstrip(".").split("."):
        raw = label.encode("latin-1")
        out += bytes([len(raw)]) + raw
    out += b"\x00" + struct.pack("!HH", QTYPE_CODES.get(qtype, 1), 1)
    return bytes(out)
