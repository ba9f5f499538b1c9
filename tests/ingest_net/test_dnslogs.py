"""DNS server query logs (dnsmasq, CoreDNS, BIND, DoH server, DoH access log, Filebeat JSON)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from leaktrace.ingest.net import dnswire
from leaktrace.workspace import Workspace
from tests.conftest import shared_data
from tests.ingest_net.helpers import ingest, query

DNSMASQ = """\
Apr  1 13:52:14 dnsmasq[1578]: started, version 2.80 cachesize 150
Apr  1 13:53:22 dnsmasq[1578]: query[TXT] aa.=auth.example.attack from 192.168.0.30
Apr  1 13:53:22 dnsmasq[1578]: forwarded aa.=auth.example.attack to 192.168.0.20
Apr  1 13:53:22 dnsmasq[1578]: reply aa.=auth.example.attack is AbOUAAC8dAF
Apr  1 13:53:22 dnsmasq[1578]: reply aa.=auth.example.attack is<SP>
Apr  1 13:53:23 gw dnsmasq[1578]: query[A] www.example.com from 10.1.1.1
Apr  1 13:53:23 gw dnsmasq[1578]: cached www.example.com is NXDOMAIN
Apr  1 13:53:24 dnsmasq[1578]: query[A broken line
%%% garbage
""".replace("<SP>", " ")


def test_dnsmasq_golden(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAKTRACE_LOG_YEAR", "2022")
    (src,) = ingest(ws, _write(tmp_path / "dnsmasq.log", DNSMASQ)).sources
    assert src.format == "dns-server-log"
    assert src.bad_lines == [(8, "looks like a query line but does not parse"),
                             (9, "not a line of a known DNS server log format")]
    rows = query(ws, "SELECT strftime(ts, '%Y-%m-%d %H:%M:%S'), src_ip, query, qtype, rcode, answers, "
                     "json_extract_string(extra, '$.forwarded_to'), source_line FROM dns ORDER BY source_line")
    assert rows == [
        ("2022-04-01 13:53:22", "192.168.0.30", "aa.=auth.example.attack", "TXT", "NOERROR", "AbOUAAC8dAF",
         "192.168.0.20", 2),
        ("2022-04-01 13:53:23", "10.1.1.1", "www.example.com", "A", "NXDOMAIN", None, None, 6),
    ]


COREDNS = """\
.:53
CoreDNS-1.9.1
[INFO] 192.168.0.30:35371 - 39321 "TXT IN vaaaakattdu.example.attack. udp 44 false 512" NOERROR qr,aa 99 0.005210229s "0"
2024-03-01T10:00:00.5Z [INFO] [::1]:5300 - 7 "AAAA IN host.test. tcp 60 true 4096" NXDOMAIN qr,rd,ra 120 0.0001s
[ERROR] plugin/errors: 2 x.example.attack. TXT: read udp 192.168.0.10:1->192.168.0.20:53: i/o timeout
[INFO] 192.168.0.30:1 - garbage
"""


def test_coredns_golden(ws: Workspace, tmp_path: Path) -> None:
    (src,) = ingest(ws, _write(tmp_path / "coredns.log", COREDNS)).sources
    assert src.bad_lines == [(6, "looks like a query line but does not parse")]
    rows = query(ws, "SELECT epoch(ts), src_ip, src_port, trans_id, proto, query, qtype, rcode, rtt "
                     "FROM dns ORDER BY source_line")
    assert rows == [
        (None, "192.168.0.30", 35371, 39321, "udp", "vaaaakattdu.example.attack", "TXT", "NOERROR", 0.005210229),
        (1709287200.5, "::1", 5300, 7, "tcp", "host.test", "AAAA", "NXDOMAIN", 0.0001),
    ]
    assert any("carry no time" in n for n in src.notes)


BIND = """\
01-Mar-2024 10:00:00.123 client @0x7f1234 10.0.0.5#53211 (exfil.test): query: exfil.test IN A +E(0)K (10.0.0.1)
Mar  1 10:00:01 ns1 named[99]: client 10.0.0.6#4000 (b.test): view internal: query: b.test IN TXT -T (10.0.0.1)
"""


def test_bind_golden(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAKTRACE_LOG_YEAR", "2024")
    ingest(ws, _write(tmp_path / "query.log", BIND))
    rows = query(ws, "SELECT strftime(ts, '%Y-%m-%d %H:%M:%S.%g'), src_ip, src_port, dst_ip, proto, query, qtype "
                     "FROM dns ORDER BY source_line")
    assert rows == [
        ("2024-03-01 10:00:00.123", "10.0.0.5", 53211, "10.0.0.1", "udp", "exfil.test", "A"),
        ("2024-03-01 10:00:01.000", "10.0.0.6", 4000, "10.0.0.1", "tcp", "b.test", "TXT"),
    ]


def test_doh_access_log_decodes_the_question(ws: Workspace, tmp_path: Path) -> None:
    import base64

    wire = base64.urlsafe_b64encode(dnswire.build_query("AAAA.=auth.example.attack", "TXT", 9)).rstrip(b"=")
    line = (f'192.168.0.30 - - [07/May/2022:15:04:48 +0000] "GET /dns-query?ct=application/dns-message&dns='
            f'{wire.decode()} HTTP/1.1" 200 126 "-" "DNS-over-HTTPS/2.3.1"\n')
    ingest(ws, _write(tmp_path / "dns.access.log", line))
    assert query(ws, "SELECT epoch(ts), src_ip, query, qtype, trans_id FROM dns") == [
        (1651935888.0, "192.168.0.30", "AAAA.=auth.example.attack", "TXT", 9)]
    assert query(ws, "SELECT method, status_code, response_body_len, user_agent FROM http") == [
        ("GET", 200, 126, "DNS-over-HTTPS/2.3.1")]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- real logs of the Korving DNS / DoH tunnel labs ----------------------------------------------------------
QUERY_LINE = {
    "dnsmasq.log": re.compile(r"query\[\w+\] \S+ from (\S+)$"),
    "coredns.log": re.compile(r'^\[INFO\] ([\d.]+):\d+ - \d+ "'),
    "doh-server.log": re.compile(r'doh-server\[\d+\]: ([\d.]+):\d+ - - \[[^]]+\] "\S+ IN \w+"$'),
    "dns.access.log": re.compile(r'^([\d.]+) .*"GET /dns-query\?\S*dns='),
}


def _expected(path: Path) -> int:
    """Query lines from client 192.168.0.30, counted with a plain regex (Filebeat: over its messages)."""
    if path.suffix == ".json":
        lines = [json.loads(x)["message"] for x in path.open() if x.strip()]
        name = json.loads(path.open().readline())["fields"]["filename"]
    else:
        lines = path.read_text(errors="replace").splitlines()
        name = path.name
    rx = QUERY_LINE[name]
    return sum(1 for ln in lines if (m := rx.search(ln)) and m.group(1) == "192.168.0.30")


@pytest.mark.realdata
def test_korving_server_logs(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAKTRACE_LOG_YEAR", "2022")
    data = shared_data()
    logs = sorted(p for p in (data / "korving-dns-tunnel").rglob("*") if p.suffix in (".log", ".json"))
    logs += sorted((data / "korving-doh-tunnel").rglob("*.log"))
    summary = ingest(ws, *logs)
    got = dict(query(ws, "SELECT source_file, count(*) FROM dns WHERE src_ip = '192.168.0.30' GROUP BY 1"))
    assert len(summary.sources) == 7
    for s in summary.sources:
        assert s.status == "ingested" and s.format == "dns-server-log", s.name
        assert s.quarantined == 0, (s.name, s.bad_lines[:3])
        assert got[s.name] == _expected(Path(s.name)) > 20, s.name
    # times: Filebeat gives the year; syslog lines get LEAKTRACE_LOG_YEAR; all within the documented windows
    days = {r[0] for r in query(ws, "SELECT DISTINCT strftime(ts, '%Y-%m-%d') FROM dns WHERE ts IS NOT NULL")}
    assert days <= {"2022-03-31", "2022-04-01", "2022-05-07"}
