"""Squid access.log; each ingester recognises its own format and no other; IPv4 fragments reassemble."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import dpkt
import pytest

from leaktrace.ingest.base import ingesters
from leaktrace.ingest.net import dnswire
from leaktrace.ingest.net.packets import LINK_ETHERNET, Defragmenter, Fragment, Packet, decode
from leaktrace.workspace import Workspace
from tests.ingest_net.helpers import ingest, query

SQUID = """\
1714557600.120 120 10.0.0.5 TCP_MISS/200 5120 GET http://files.example.com/a/report.pdf - HIER_DIRECT/198.51.100.7 application/pdf
1714557601.500 1500 10.0.0.5 TCP_TUNNEL/200 64000 CONNECT drop.example.net:443 alice HIER_DIRECT/203.0.113.9 -
1714557602.000 0 10.0.0.6 TCP_DENIED/403 3900 GET http://blocked.test/ - HIER_NONE/- text/html
this is not squid
"""


def test_squid_golden(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text(SQUID)
    (src,) = ingest(ws, path).sources
    assert src.format == "squid"
    assert [line for line, _ in src.bad_lines] == [4]
    http = query(ws, "SELECT epoch(ts), src_ip, dst_ip, dst_port, method, host, uri, status_code, "
                     "response_body_len, resp_mime_types FROM http ORDER BY ts")
    assert http == [
        (1714557600.0, "10.0.0.5", "198.51.100.7", 80, "GET", "files.example.com", "/a/report.pdf", 200, 5120,
         "application/pdf"),
        (1714557600.0, "10.0.0.5", "203.0.113.9", 443, "CONNECT", "drop.example.net", None, 200, 64000, None),
        (1714557602.0, "10.0.0.6", None, 80, "GET", "blocked.test", "/", 403, 3900, "text/html"),
    ]
    conn = query(ws, "SELECT src_ip, dst_ip, dst_port, app, duration, bytes_in FROM conn ORDER BY dst_port")
    assert conn == [("10.0.0.5", "198.51.100.7", 80, "http", 0.12, 5120),
                    ("10.0.0.5", "203.0.113.9", 443, "ssl", 1.5, 64000)]


SAMPLES: dict[str, bytes] = {
    "pcap": b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 16,
    "suricata-eve": json.dumps({"timestamp": "2024-01-01T00:00:00+0000", "flow_id": 1, "event_type": "flow",
                                "src_ip": "1.2.3.4"}).encode() + b"\n",
    "dns-server-log": b"Apr  1 13:53:22 dnsmasq[1578]: query[TXT] a.example from 192.168.0.30\n",
    "nfdump-csv": b"ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt\n",
    "squid": SQUID.encode(),
    "zeek-json": b'{"ts":1.0,"uid":"C1","id.orig_h":"1.2.3.4","id.orig_p":1,"id.resp_h":"5.6.7.8","id.resp_p":2}\n',
}
FILEBEAT = (b'{"@timestamp":"2022-04-01T13:52:14.577Z","@metadata":{"beat":"filebeat"},"message":"Apr  1 13:52:14 '
            b'dnsmasq[1578]: query[A] x from 192.168.0.30","fields":{"filename":"dnsmasq.log"}}\n')


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_sniffers_are_specific(fmt: str) -> None:
    import leaktrace.ingest  # noqa: F401  (zeek ingesters)

    matches = [name for name, ing in ingesters.items() if ing.sniff(SAMPLES[fmt], "x")]
    assert matches == [fmt]


def test_filebeat_json_goes_to_the_dns_log_reader() -> None:
    assert [name for name, ing in ingesters.items() if ing.sniff(FILEBEAT, "filebeat.json")] == ["dns-server-log"]


def test_fragmented_dns_answer_reassembles() -> None:
    q = dnswire.build_query("big.example", "TXT", 5)
    txt = b"A" * 200
    answer = b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c" + (len(txt) * 10 + 10).to_bytes(2, "big")
    answer += (bytes([len(txt)]) + txt) * 10
    msg = q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:] + answer
    udp = dpkt.udp.UDP(sport=53, dport=4000, data=msg)
    udp.ulen = 8 + len(msg)
    payload = bytes(udp)
    frames = []
    for off in range(0, len(payload), 800):
        part = payload[off:off + 800]
        more = off + 800 < len(payload)
        ip = dpkt.ip.IP(src=socket.inet_aton("10.0.0.1"), dst=socket.inet_aton("10.0.0.5"), p=17, id=77, data=part)
        ip.mf = int(more)
        ip.offset = off // 8
        ip.len = 20 + len(part)
        frames.append(bytes(dpkt.ethernet.Ethernet(type=0x0800, data=ip)))
    defrag = Defragmenter()
    out = None
    for frame in reversed(frames):  # any order
        frag = decode(LINK_ETHERNET, frame)
        assert isinstance(frag, Fragment)
        whole = defrag.add(0.0, frag)
        out = whole if whole is not None else out
    assert out is not None
    p = decode(101, out)
    assert isinstance(p, Packet) and p.sport == 53
    parsed = dnswire.parse(p.payload)
    assert parsed.answers[0].data == (txt.decode() * 10)


def test_ipv6_with_extension_header_decodes() -> None:
    udp = dpkt.udp.UDP(sport=5353, dport=53, data=b"x" * 12)
    udp.ulen = 20
    hop = b"\x11\x00" + b"\x00" * 6  # hop-by-hop options, next header UDP
    ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, "2001:db8::1"),
                       dst=socket.inet_pton(socket.AF_INET6, "2001:db8::2"), nxt=0, hlim=64, plen=8 + len(bytes(udp)))
    frame = bytes(dpkt.ethernet.Ethernet(type=0x86DD, data=b"")) + bytes(ip6)[:40] + hop + bytes(udp)
    p = decode(LINK_ETHERNET, frame)
    assert isinstance(p, Packet)
    assert (p.src, p.dst, p.proto, p.sport, p.dport, p.payload) == ("2001:db8::1", "2001:db8::2", 17, 5353, 53,
                                                                     b"x" * 12)
