"""NetFlow v5/v9/IPFIX decoding, the UDP collector on loopback, and nfdump CSV files."""

from __future__ import annotations

import socket
import struct
import threading
import time
from pathlib import Path

from leaktrace.collect.netflow import NetflowCollector
from leaktrace.ingest.net.cli import parse_listen
from leaktrace.ingest.net.netflow import REVERSE_PEN, NetflowDecoder, to_conn_rows
from leaktrace.workspace import Workspace
from tests.ingest_net.helpers import ingest, ipfix, nf_v5, nf_v9, query

EXPORT = 1_714_557_600  # 2024-05-01 10:00:00 UTC
UPTIME = 3_600_000  # ms since the exporter booted

# v9 template 256: src, dst, sport, dport, proto, flags, bytes, pkts, first, last
V9_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (1, 4), (2, 4), (22, 4), (21, 4)]


def v9_record(src: str, dst: str, sport: int, dport: int, proto: int, flags: int, nbytes: int, pkts: int,
              first_ago_ms: int, last_ago_ms: int) -> bytes:
    return (socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HHBBII", sport, dport, proto, flags,
            nbytes, pkts) + struct.pack("!II", UPTIME - first_ago_ms, UPTIME - last_ago_ms))


# IPFIX template 300: biflow with RFC 5103 reverse counters and absolute millisecond times
IPFIX_FIELDS = [(8, 4, 0), (12, 4, 0), (7, 2, 0), (11, 2, 0), (4, 1, 0), (1, 8, 0), (2, 8, 0), (1, 8, REVERSE_PEN),
                (2, 8, REVERSE_PEN), (152, 8, 0), (153, 8, 0)]


def ipfix_record(src: str, dst: str, sport: int, dport: int, proto: int, fwd: tuple[int, int],
                 rev: tuple[int, int], start_ms: int, end_ms: int) -> bytes:
    return (socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HHB", sport, dport, proto)
            + struct.pack("!QQQQQQ", fwd[0], fwd[1], rev[0], rev[1], start_ms, end_ms))


def v9_packets() -> list[bytes]:
    """Three uni-flows (two of them the two directions of one TCP connection) and one UDP flow; the data set of
    the second packet arrives before its template is re-sent (template first sent in packet 1)."""
    p1 = nf_v9({256: V9_FIELDS}, {256: [
        v9_record("10.0.0.5", "198.51.100.7", 50000, 443, 6, 0x1B, 900_040, 1000, 10_000, 1_000),
        v9_record("198.51.100.7", "10.0.0.5", 443, 50000, 6, 0x1B, 20_040, 500, 9_990, 1_000),
    ]}, UPTIME, EXPORT)
    p2 = nf_v9({}, {256: [v9_record("10.0.0.6", "10.0.0.1", 5353, 53, 17, 0, 128, 2, 500, 400)]}, UPTIME, EXPORT,
               seq=1)
    return [p1, p2]


def ipfix_packets() -> list[bytes]:
    """Data before template (held, then released), one biflow record and one uni record."""
    data = ipfix({}, {300: [ipfix_record("10.0.0.7", "203.0.113.5", 41000, 8080, 6, (5_000_400, 4000),
                                         (80_000, 1000), EXPORT * 1000 - 60_000, EXPORT * 1000 - 1_000)]},
                 EXPORT, seq=0)
    tmpl = ipfix({300: IPFIX_FIELDS}, {300: [ipfix_record("10.0.0.8", "203.0.113.6", 41001, 53, 17, (100, 1),
                                                           (0, 0), EXPORT * 1000 - 5_000, EXPORT * 1000 - 5_000)]},
                 EXPORT, seq=1)
    return [data, tmpl]


def test_decoder_v5_v9_ipfix() -> None:
    dec = NetflowDecoder()
    v5 = dec.decode(nf_v5([{"src": "10.0.0.9", "dst": "192.0.2.1", "sport": 1234, "dport": 80, "proto": 6,
                            "pkts": 10, "bytes": 5000, "first": UPTIME - 2000, "last": UPTIME - 1000}],
                          UPTIME, EXPORT), "192.0.2.250")
    assert [(r.src_ip, r.dst_port, r.octets, r.packets, r.start, r.end) for r in v5] == [
        ("10.0.0.9", 80, 5000, 10, EXPORT - 2.0, EXPORT - 1.0)]
    records = [r for p in v9_packets() for r in dec.decode(p, "192.0.2.250")]
    assert len(records) == 3
    rows = to_conn_rows(records)
    assert [(r["src_ip"], r["dst_port"], r["proto"], r["bytes_out"], r["bytes_in"], r["pkts_out"], r["pkts_in"],
             r["ip_bytes_out"], r["state"], r["ts"]) for r in rows] == [
        # stitched: 900,040 IP bytes - 40 per packet; the reverse record gives bytes_in
        ("10.0.0.5", 443, "tcp", 860_040, 40, 1000, 500, 900_040, "SF", EXPORT - 10.0),
        ("10.0.0.6", 53, "udp", 72, 0, 2, 0, 128, "S0", EXPORT - 0.5),
    ]
    held = [r for p in ipfix_packets() for r in dec.decode(p, "192.0.2.251")]
    assert sorted((r.src_ip, r.octets, r.rev_octets) for r in held) == [
        ("10.0.0.7", 5_000_400, 80_000), ("10.0.0.8", 100, None)]


def test_parse_listen() -> None:
    assert parse_listen(":2055") == ("0.0.0.0", 2055)
    assert parse_listen("127.0.0.1:9995") == ("127.0.0.1", 9995)
    assert parse_listen("[::1]:2055") == ("::1", 2055)


def test_udp_collector_round_trip(ws: Workspace) -> None:
    collector = NetflowCollector(ws, "127.0.0.1", 0, flush_seconds=0.2)
    port = collector.bind()
    stop = threading.Event()
    thread = threading.Thread(target=collector.run, args=(stop,), daemon=True)
    thread.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for pkt in v9_packets() + ipfix_packets() + [b"\x00\x07garbage"]:
                s.sendto(pkt, ("127.0.0.1", port))
                time.sleep(0.01)
        deadline = time.time() + 10
        while collector.stats.records < 5 and time.time() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert (collector.stats.packets, collector.stats.bad_packets, collector.stats.records) == (5, 1, 5)
    rows = query(ws, "SELECT src_ip, dst_port, proto, bytes_out, bytes_in, pkts_out, pkts_in, ip_bytes_in, "
                     "epoch(ts), source_format FROM conn ORDER BY src_ip")
    assert rows == [
        ("10.0.0.5", 443, "tcp", 860_040, 40, 1000, 500, 20_040, EXPORT - 10.0, "netflow"),
        ("10.0.0.6", 53, "udp", 72, 0, 2, 0, 0, EXPORT - 0.5, "netflow"),
        ("10.0.0.7", 8080, "tcp", 5_000_400 - 40 * 4000, 80_000 - 40 * 1000, 4000, 1000, 80_000, EXPORT - 60.0,
         "netflow"),
        ("10.0.0.8", 53, "udp", 72, 0, 1, 0, 0, EXPORT - 5.0, "netflow"),
    ]
    # every micro-batch is its own committed source; the bad packet is quarantined
    assert collector.stats.batches >= 1
    assert query(ws, "SELECT count(*) FROM quarantine")[0][0] == 1


NFDUMP = """\
ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr
2024-05-01 10:00:00,2024-05-01 10:00:30,30.000,10.0.0.5,198.51.100.7,50000,443,TCP,.AP.SF,0,0,100,54000,0,0,1,2,0,0,24,24,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0.000,0.000,0.000,127.0.0.1,0/0,1,1970-01-01 00:00:00.000
2024-05-01 10:00:01,2024-05-01 10:00:30,29.000,198.51.100.7,10.0.0.5,443,50000,TCP,.AP.SF,0,0,50,4000,0,0,1,2,0,0,24,24,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0.000,0.000,0.000,127.0.0.1,0/0,1,1970-01-01 00:00:00.000
2024-05-01 10:00:02,2024-05-01 10:00:02,0.000,10.0.0.6,10.0.0.1,5353,53,UDP,......,0,0,1,70,0,0,1,2
bad,row,here,10.0.0.6,10.0.0.1,1,2,UDP,......,0,0,1,70,0,0,1,2,0,0,24,24,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0.000,0.000,0.000,127.0.0.1,0/0,1,1970-01-01 00:00:00.000
Summary
flows,bytes,packets,avg_bps,avg_pps,avg_bpp
3,58070,151,0,0,0
"""


def test_nfdump_csv(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_text(NFDUMP)
    (src,) = ingest(ws, path).sources
    assert src.format == "nfdump-csv"
    assert [line for line, _ in src.bad_lines] == [4, 5]
    rows = query(ws, "SELECT src_ip, dst_port, bytes_out, bytes_in, pkts_in, state, history, duration, source_line "
                     "FROM conn")
    # the two directions stitched; payload estimated as IP bytes - 40 per TCP packet
    assert rows == [("10.0.0.5", 443, 54000 - 4000, 4000 - 2000, 50, "SF", "FSPAfspa", 30.0, 2)]
