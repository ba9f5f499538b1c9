"""pcap ingest on a hand-made capture: every expected row written next to the packets that make it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from leaktrace.ingest.net import dnswire
from leaktrace.ingest.net.tlshello import handshake_message, parse_client_hello
from leaktrace.workspace import Workspace
from tests.ingest_net.helpers import ACK, PSH, RST, SYN, Capture, client_hello, ingest, query, server_hello

C, S = "10.0.0.5", "203.0.113.9"
T0 = 1_700_000_000.0

# The browserleaks.com Chrome 143 hello (ja4_ro / ja3_text of a published capture), GREASE added here
CIPHERS = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014, 0x009C,
           0x009D, 0x002F, 0x0035]
EXTS = [0x002D, 0x0033, 0x0010, 0xFE0D, 0x0017, 0x44CD, 0x0000, 0x000B, 0x000A, 0x002B, 0xFF01, 0x0023, 0x0012,
        0x0005, 0x000D, 0x001B]
SIGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
GROUPS = [4588, 29, 23, 24]
JA3 = "98487aa16281980e7d1120d399efb6a4"
JA4 = "t13d1516h2_8daaf6152771_d8a2da3f94cd"


def chrome_hello(sni: str = "tls.example.org", grease: bool = True) -> bytes:
    g = [0x0A0A] if grease else []
    return client_hello(sni, g + CIPHERS, g + EXTS + [0x1A1A] * grease, [0x2A2A] * grease + GROUPS, [0], SIGS,
                        ["h2", "http/1.1"], [0x3A3A] * grease + [0x0304, 0x0303])


def test_ja3_ja4_match_published_fingerprints() -> None:
    for grease in (False, True):
        msg = handshake_message(chrome_hello(grease=grease))
        assert msg is not None and msg[0] == 1
        hello = parse_client_hello(msg[1])
        assert hello.sni == "tls.example.org"
        assert hello.ja3() == JA3
        assert hello.ja4() == JA4


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 20
UPLOAD = (b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"report.pdf\"\r\n"
          b"Content-Type: application/octet-stream\r\n\r\n" + PDF + b"\r\n--XyZ--\r\n")
REQUEST = (b"POST /upload?id=7 HTTP/1.1\r\nHost: files.example.net\r\nUser-Agent: curl/8.0\r\n"
           b"Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: " + str(len(UPLOAD)).encode()
           + b"\r\n\r\n" + UPLOAD)
RESP_BODY = b"<html>ok</html>"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
            + f"{len(RESP_BODY):x}\r\n".encode() + RESP_BODY + b"\r\n0\r\n\r\n")


def dns_response(query: bytes, txt: bytes) -> bytes:
    ans = b"\xc0\x0c" + (16).to_bytes(2, "big") + b"\x00\x01" + (300).to_bytes(4, "big")
    ans += (len(txt) + 1).to_bytes(2, "big") + bytes([len(txt)]) + txt
    return query[:2] + b"\x81\x80" + query[4:6] + b"\x00\x01\x00\x00\x00\x00" + query[12:] + ans


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    cap = Capture()
    # 1. HTTP POST with a multipart upload (one segment retransmitted) and a chunked response
    cap.handshake(T0, C, 40001, S, 80)
    t = cap.send(T0 + 0.01, C, 40001, S, 80, REQUEST[:1400])
    cap.tcp(t, C, 40001, S, 80, ACK | PSH, REQUEST[:1400], seq=1000 + 40001 + 1)  # retransmission
    t = cap.send(t + 0.001, C, 40001, S, 80, REQUEST[1400:])
    cap.send(t + 0.05, S, 80, C, 40001, RESPONSE)
    cap.close(t + 0.1, C, 40001, S, 80)
    # 2. TLS: the hello split over two segments, a ServerHello, then application data
    hello = chrome_hello()
    cap.handshake(T0 + 1, C, 40002, S, 443)
    cap.tcp(T0 + 1.01, C, 40002, S, 443, ACK | PSH, hello[:100])
    cap.tcp(T0 + 1.02, C, 40002, S, 443, ACK | PSH, hello[100:])
    cap.tcp(T0 + 1.03, S, 443, C, 40002, ACK | PSH, server_hello())
    cap.close(T0 + 1.5, C, 40002, S, 443)
    # 3. DNS TXT query and answer
    q = dnswire.build_query("c2.ns.example.com", "TXT", ident=0x1234)
    cap.udp(T0 + 2, C, 53001, "10.0.0.1", 53, q)
    cap.udp(T0 + 2.02, "10.0.0.1", 53, C, 53001, dns_response(q, b"cG93ZXJzaGVsbA=="))
    # 4. SYN never answered (S0) and SYN answered by RST (REJ)
    cap.tcp(T0 + 3, C, 40003, S, 8443, SYN)
    cap.tcp(T0 + 3.1, C, 40004, S, 22, SYN)
    cap.tcp(T0 + 3.101, S, 22, C, 40004, RST | ACK)
    # 5. an upload in three bursts separated by 3 s of silence
    cap.handshake(T0 + 4, C, 40005, S, 9000)
    t = T0 + 4.01
    for size in (5000, 8000, 3000):
        cap.send(t, C, 40005, S, 9000, b"x" * size)
        t += 3
    cap.close(t, C, 40005, S, 9000)
    # 6. the same UDP pair 100 s apart: two flows (idle timeout 60 s)
    cap.udp(T0 + 20, C, 5000, S, 6000, b"a" * 10)
    cap.udp(T0 + 120, C, 5000, S, 6000, b"b" * 20)
    # 7. a ping and its reply: one ICMP flow
    cap.icmp(T0 + 121, C, S, 8, b"ping")
    cap.icmp(T0 + 121.01, S, C, 0, b"ping")
    # 8. a truncated frame (Ethernet + 4 bytes of IP)
    cap.raw(T0 + 121, b"\x00" * 12 + b"\x08\x00" + b"\x45\x00\x00")
    return cap.write(tmp_path / "golden.pcap")


def frame_count(path: Path) -> int:
    import dpkt

    with path.open("rb") as fh:
        return sum(1 for _ in dpkt.pcap.Reader(fh))


def test_golden_capture(ws: Workspace, capture: Path) -> None:
    summary = ingest(ws, capture)
    (src,) = summary.sources
    assert src.status == "ingested" and src.format == "pcap"

    conn = {(r[0], r[1]): r[2:] for r in query(ws, """
        SELECT src_port, dst_port, proto, app, state, bytes_out, bytes_in, missed_bytes FROM conn
        WHERE src_port NOT IN (53001, 5000) ORDER BY ts""")}
    # (sport, dport):      proto   app     state  bytes_out                bytes_in
    assert conn[(40001, 80)] == ("tcp", "http", "SF", len(REQUEST), len(RESPONSE), 0)
    assert conn[(40002, 443)][:4] == ("tcp", "ssl", "SF", len(chrome_hello()))
    assert conn[(40003, 8443)] == ("tcp", None, "S0", 0, 0, 0)
    assert conn[(40004, 22)] == ("tcp", None, "REJ", 0, 0, 0)
    assert conn[(40005, 9000)] == ("tcp", None, "SF", 16000, 0, 0)
    assert conn[(8, 0)] == ("icmp", None, "OTH", 8, 8, 0)
    udp = query(ws, "SELECT bytes_out, state FROM conn WHERE src_port = 5000 ORDER BY ts")
    assert udp == [(10, "S0"), (20, "S0")]

    http = query(ws, "SELECT method, host, uri, user_agent, status_code, request_body_len, response_body_len, "
                     "orig_mime_types, resp_mime_types FROM http")
    assert http == [("POST", "files.example.net", "/upload?id=7", "curl/8.0", 200, len(UPLOAD), len(RESP_BODY),
                     "application/pdf", "text/html")]
    files = query(ws, "SELECT is_orig, filename, mime_type, size, sha256 FROM net_files ORDER BY is_orig DESC")
    assert files == [
        (True, "report.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest()),
        (False, None, "text/html", len(RESP_BODY), hashlib.sha256(RESP_BODY).hexdigest()),
    ]
    tls = query(ws, "SELECT sni, ja3, ja4, version, cipher, established FROM tls")
    assert tls == [("tls.example.org", JA3, JA4, "TLSv13", "TLS_AES_128_GCM_SHA256", True)]
    dns = query(ws, "SELECT src_ip, dst_ip, trans_id, query, qtype, rcode, answers, ttls, round(rtt, 3) FROM dns")
    assert dns == [(C, "10.0.0.1", 0x1234, "c2.ns.example.com", "TXT", "NOERROR", "cG93ZXJzaGVsbA==", "300", 0.02)]
    bursts = query(ws, "SELECT burst_index, bytes, packets FROM upload_bursts WHERE dst_port = 9000 ORDER BY 1")
    assert bursts == [(0, 5000, 4), (1, 8000, 6), (2, 3000, 3)]
    # the request is one burst too (retransmission not counted twice)
    assert query(ws, "SELECT bytes FROM upload_bursts WHERE dst_port = 80") == [(len(REQUEST),)]


def test_quarantined_frame_has_its_number(ws: Workspace, capture: Path) -> None:
    summary = ingest(ws, capture)
    (src,) = summary.sources
    assert src.quarantined == 1
    last = frame_count(capture)  # the truncated frame is the last one
    assert src.bad_lines == [(last, "truncated or malformed frame")]
    assert query(ws, "SELECT source_line, reason FROM quarantine") == [(last, "truncated or malformed frame")]


def test_reingest_adds_nothing(ws: Workspace, capture: Path) -> None:
    ingest(ws, capture)
    n = query(ws, "SELECT count(*) FROM conn")[0][0]
    again = ingest(ws, capture)
    assert again.sources[0].status == "already-ingested"
    assert query(ws, "SELECT count(*) FROM conn")[0][0] == n


def test_truncated_capture_keeps_what_came_before(ws: Workspace, capture: Path, tmp_path: Path) -> None:
    data = capture.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-30])  # ends inside the record before the last
    (src,) = ingest(ws, cut).sources
    assert src.status == "ingested"
    assert any(n.startswith("capture truncated after frame") for n in src.notes)
    assert query(ws, "SELECT count(*) FROM conn WHERE src_port BETWEEN 40001 AND 40005")[0][0] == 5


def test_pcapng_gives_the_same_rows(ws: Workspace, capture: Path, tmp_path: Path) -> None:
    import dpkt

    ng = tmp_path / "golden.pcapng"
    with capture.open("rb") as fh, ng.open("wb") as out:
        writer = dpkt.pcapng.Writer(out, linktype=dpkt.pcap.DLT_EN10MB)
        for ts, frame in dpkt.pcap.Reader(fh):
            writer.writepkt(frame, ts=ts)
    ingest(ws, capture, ng)
    per_file = query(ws, "SELECT source_file LIKE '%pcapng', count(*), sum(bytes_out), string_agg(DISTINCT uid, ',') "
                         "FROM conn GROUP BY 1 ORDER BY 1")
    assert per_file[0][1:3] == per_file[1][1:3]
    assert per_file[0][3] != per_file[1][3]  # uids derive from the source: no clash between the two files
