"""Suricata EVE: golden events → rows, and exact per-event-type counts on the real files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from leaktrace.workspace import Workspace
from tests.conftest import shared_data
from tests.ingest_net.helpers import ingest, query

FLOW: dict[str, Any] = {"timestamp": "2024-05-01T10:00:05.000000+0200", "flow_id": 11, "event_type": "flow", "src_ip": "10.0.0.5",
        "src_port": 50000, "dest_ip": "198.51.100.7", "dest_port": 443, "proto": "TCP", "app_proto": "tls",
        "flow": {"pkts_toserver": 40, "pkts_toclient": 30, "bytes_toserver": 90000, "bytes_toclient": 4000,
                 "start": "2024-05-01T10:00:00.000000+0200", "end": "2024-05-01T10:00:04.500000+0200",
                 "age": 4, "state": "closed", "reason": "timeout", "alerted": False},
        "tcp": {"tcp_flags": "1b", "syn": True, "fin": True, "ack": True, "state": "closed"}}
Q1: dict[str, Any] = {"timestamp": "2024-05-01T08:00:01.000000+0000", "flow_id": 12, "event_type": "dns", "src_ip": "10.0.0.5",
      "src_port": 40000, "dest_ip": "10.0.0.1", "dest_port": 53, "proto": "UDP",
      "dns": {"type": "query", "id": 7, "rrname": "a.example.org", "rrtype": "A", "tx_id": 0}}
A1: dict[str, Any] = {**Q1, "timestamp": "2024-05-01T08:00:01.010000+0000",
      "dns": {"version": 2, "type": "answer", "id": 7, "rrname": "a.example.org", "rrtype": "A", "rcode": "NOERROR",
              "answers": [{"rrname": "a.example.org", "rrtype": "A", "ttl": 60, "rdata": "192.0.2.1"},
                          {"rrname": "a.example.org", "rrtype": "A", "ttl": 60, "rdata": "192.0.2.2"}]}}
# v1: one event per answer RR, logged in packet direction
Q2: dict[str, Any] = {**Q1, "flow_id": 13, "dns": {"type": "query", "id": 8, "rrname": "x.tunnel.test", "rrtype": "TXT"}}
A2a: dict[str, Any] = {**Q1, "flow_id": 13, "src_ip": "10.0.0.1", "src_port": 53, "dest_ip": "10.0.0.5", "dest_port": 40000,
       "dns": {"type": "answer", "id": 8, "rrname": "x.tunnel.test", "rrtype": "TXT", "ttl": 0, "rdata": "AAAA",
               "rcode": "NOERROR"}}
A2b: dict[str, Any] = {**A2a, "dns": {**A2a["dns"], "rdata": "BBBB"}}
HTTP: dict[str, Any] = {"timestamp": "2024-05-01T08:00:02+0000", "flow_id": 14, "event_type": "http", "src_ip": "10.0.0.5",
        "src_port": 40001, "dest_ip": "198.51.100.8", "dest_port": 80, "proto": "TCP",
        "http": {"hostname": "upload.test", "url": "/put", "http_user_agent": "curl/8", "http_method": "POST",
                 "protocol": "HTTP/1.1", "status": 201, "length": 12, "http_content_type": "text/plain"}}
TLS: dict[str, Any] = {"timestamp": "2024-05-01T08:00:03+0000", "flow_id": 11, "event_type": "tls", "src_ip": "10.0.0.5",
       "src_port": 50000, "dest_ip": "198.51.100.7", "dest_port": 443, "proto": "TCP",
       "tls": {"sni": "c2.test", "version": "TLS 1.3", "ja3": {"hash": "a" * 32, "string": "771,..."},
               "ja3s": {"hash": "b" * 32}, "ja4": "t13d1516h2_8daaf6152771_d8a2da3f94cd"}}
FILE: dict[str, Any] = {"timestamp": "2024-05-01T08:00:02.5+0000", "flow_id": 14, "event_type": "fileinfo", "src_ip": "10.0.0.5",
        "src_port": 40001, "dest_ip": "198.51.100.8", "dest_port": 80, "proto": "TCP", "app_proto": "http",
        "fileinfo": {"filename": "/put", "size": 5000, "sha256": "c" * 64, "state": "CLOSED", "tx_id": 0}}
ALERT: dict[str, Any] = {"timestamp": "2024-05-01T08:00:04+0000", "flow_id": 11, "event_type": "alert", "src_ip": "10.0.0.5",
         "src_port": 50000, "dest_ip": "198.51.100.7", "dest_port": 443, "proto": "TCP",
         "alert": {"action": "allowed", "signature_id": 1, "signature": "ET TEST beacon", "category": "A Network Trojan",
                   "severity": 1}}
ANOMALY: dict[str, Any] = {"timestamp": "2024-05-01T08:00:05+0000", "event_type": "anomaly", "src_ip": "10.0.0.5",
           "dest_ip": "10.0.0.1", "anomaly": {"type": "decode", "event": "ipv4.trunc_pkt", "layer": "proto"}}
STATS: dict[str, Any] = {"timestamp": "2024-05-01T08:00:06+0000", "event_type": "stats", "stats": {"uptime": 1}}
SMB: dict[str, Any] = {"timestamp": "2024-05-01T08:00:07+0000", "flow_id": 15, "event_type": "smb", "src_ip": "10.0.0.5",
       "dest_ip": "10.0.0.9", "smb": {"command": "SMB2_COMMAND_CREATE", "filename": "secret.docx"}}


def write_eve(path: Path, events: list[dict[str, Any] | str]) -> Path:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events))
    return path


def test_golden_events(ws: Workspace, tmp_path: Path) -> None:
    eve = write_eve(tmp_path / "eve.json", [FLOW, Q1, Q2, A1, A2a, A2b, HTTP, TLS, FILE, ALERT, ANOMALY, STATS, SMB,
                                            "{not json", '{"event_type": "flow"}'])
    (src,) = ingest(ws, eve).sources
    assert src.format == "suricata-eve"
    bad = dict(src.bad_lines)
    assert set(bad) == {14, 15}
    assert bad[14].startswith("not JSON") and bad[15] == "missing or invalid event_type/timestamp"
    assert src.rows == {"conn": 1, "dns": 2, "http": 1, "tls": 1, "net_files": 1, "notice": 1, "weird": 1,
                        "other_log": 1}

    conn = query(ws, "SELECT epoch(ts), src_ip, dst_port, proto, app, duration, bytes_out, bytes_in, pkts_out, "
                     "pkts_in, state, uid FROM conn")[0]
    assert conn[:11] == (1714550400.0, "10.0.0.5", 443, "tcp", "ssl", 4.5, 90000, 4000, 40, 30, "SF")
    dns = query(ws, "SELECT src_ip, dst_ip, query, qtype, rcode, answers, ttls, "
                    "json_extract(extra, '$.eve_query')::INT, json_extract(extra, '$.eve_answer')::INT "
                    "FROM dns ORDER BY query")
    assert dns == [
        ("10.0.0.5", "10.0.0.1", "a.example.org", "A", "NOERROR", "192.0.2.1,192.0.2.2", "60,60", 1, 1),
        ("10.0.0.5", "10.0.0.1", "x.tunnel.test", "TXT", "NOERROR", "AAAA,BBBB", "0,0", 1, 2),
    ]
    assert query(ws, "SELECT method, host, uri, status_code, response_body_len, resp_mime_types FROM http") == [
        ("POST", "upload.test", "/put", 201, 12, "text/plain")]
    tls = query(ws, "SELECT sni, version, ja3, ja3s, ja4, uid FROM tls")[0]
    assert tls[:5] == ("c2.test", "TLSv13", "a" * 32, "b" * 32, "t13d1516h2_8daaf6152771_d8a2da3f94cd")
    assert tls[5] == conn[11]  # same flow_id, same uid
    assert query(ws, "SELECT filename, size, sha256 FROM net_files") == [("/put", 5000, "c" * 64)]
    assert query(ws, "SELECT note, msg, sub, dst_port FROM notice") == [
        ("ET TEST beacon", "ET TEST beacon", "A Network Trojan", 443)]
    assert query(ws, "SELECT name, addl FROM weird") == [("ipv4.trunc_pkt", "proto")]
    assert query(ws, "SELECT log_type FROM other_log") == [("suricata-smb",)]


def _independent_counts(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    with path.open() as fh:
        for line in fh:
            if line.strip():
                counts[json.loads(line)["event_type"]] += 1
    return counts


@pytest.mark.realdata
@pytest.mark.parametrize("rel", [
    "stratosphere-slips-suricata/test6-malicious.suricata.json",
    "korving-doh-tunnel/doh-dns2tcp-txt-transfer/dnsoverhttps/suricata/eve.json",
])
def test_real_eve_counts_are_exact(ws: Workspace, rel: str) -> None:
    path = shared_data() / rel
    expected = _independent_counts(path)
    (src,) = ingest(ws, path).sources
    assert src.status == "ingested" and src.quarantined == 0
    tables = {"flow": "conn", "alert": "notice", "http": "http", "tls": "tls", "fileinfo": "net_files",
              "anomaly": "weird"}
    for etype, table in tables.items():
        assert src.rows.get(table, 0) == expected.get(etype, 0), etype
    merged = query(ws, "SELECT sum(json_extract(extra, '$.eve_query')::INT), "
                       "sum(json_extract(extra, '$.eve_answer')::INT) FROM dns")[0]
    dns_events = [json.loads(x)["dns"]["type"] for x in path.open() if '"event_type":"dns"' in x]
    assert merged == (dns_events.count("query"), dns_events.count("answer"))
    assert f"event types: {', '.join(f'{k}={v}' for k, v in sorted(expected.items()))}" in src.notes
