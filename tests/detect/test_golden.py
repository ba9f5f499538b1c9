"""Golden tests: a few records in, the expected findings out, side by side."""

from __future__ import annotations

import random

from helpers import T0, at, engine, flow, run

from leaktrace.detect.domains import registered_domain
from leaktrace.detect.long_connection import duration_score
from leaktrace.detect.registry import detectors

OTHERS = [f"10.0.1.{i}" for i in range(1, 41)]  # a population of 40 ordinary hosts


def background(rnd: random.Random) -> list[dict]:
    """Every ordinary host browses a common service a little, every hour (gives baselines and prevalence)."""
    rows = []
    for h in OTHERS + ["10.0.0.7"]:
        for hour in range(24):
            rows.append(
                flow(h, "198.51.100.1", hour * 3600 + rnd.uniform(0, 3000), out=rnd.randint(20_000, 90_000))
            )
    return rows


def test_registry_has_all_detectors_with_params() -> None:
    assert set(detectors.names()) >= {
        "exfil_volume",
        "beacon",
        "long_connection",
        "dns_tunnel",
        "no_dns",
        "archive_upload",
        "intel",
    }
    for _, cls in detectors.items():
        cls.Params()  # defaults validate


def test_jittered_60s_beacon_is_found_and_irregular_traffic_is_not() -> None:
    rnd = random.Random(7)
    rows = []
    t = 0.0
    while t < 86_400:  # beacon: 60 s ± 20 %, fixed size
        rows.append(flow("10.0.0.5", "203.0.113.9", t, out=210, inn=480))
        t += 60 * rnd.uniform(0.8, 1.2)
    for _ in range(300):  # a person: random times, random sizes
        rows.append(
            flow("10.0.0.6", "198.51.100.7", rnd.uniform(8 * 3600, 18 * 3600), out=rnd.randint(100, 90_000))
        )
    found = run("beacon", engine(conn=rows))
    #            host         server         kind         score
    assert [(f.src_ip, f.dst_ip, f.kind) for f in found] == [("10.0.0.5", "203.0.113.9", "beaconing")]
    assert found[0].score >= 0.6 and found[0].evidence["total"] >= 0.9
    assert found[0].uids  # record references


def test_15mb_to_new_rare_server_is_high_and_60mb_to_common_service_is_at_most_low() -> None:
    rnd = random.Random(3)
    rows = background(rnd)
    rows.append(flow("10.0.0.7", "192.0.2.50", 14 * 3600, out=15_000_000, inn=30_000))  # the leak
    for h in OTHERS:  # 40 hosts use a cloud drive; one uploads 60 MB
        rows.append(flow(h, "203.0.113.80", rnd.uniform(0, 80_000), out=200_000))
    rows.append(flow(OTHERS[0], "203.0.113.80", 15 * 3600, out=60_000_000, inn=100_000))
    found = run("exfil_volume", engine(conn=rows))
    leak = [f for f in found if f.dst_ip == "192.0.2.50"]
    assert [(f.src_ip, f.kind) for f in leak] == [("10.0.0.7", "exfiltration")]
    assert leak[0].severity in ("high", "critical"), leak[0].evidence
    big = [f for f in found if f.dst_ip == "203.0.113.80"]
    assert all(f.severity == "low" for f in big)


def test_small_upload_below_floor_gives_nothing() -> None:
    rows = background(random.Random(1)) + [flow("10.0.0.7", "192.0.2.50", 100, out=400_000)]
    assert [f for f in run("exfil_volume", engine(conn=rows)) if f.dst_ip == "192.0.2.50"] == []


def test_long_connection_buckets() -> None:
    assert duration_score(0.5) == 0 and duration_score(1) == 0.2 and duration_score(12) == 0.8
    rows = [flow("10.0.0.5", "203.0.113.9", 0, dur=13 * 3600), flow("10.0.0.6", "203.0.113.10", 0, dur=600)]
    found = run("long_connection", engine(conn=rows))
    assert [(f.src_ip, f.dst_ip) for f in found] == [("10.0.0.5", "203.0.113.9")]
    assert found[0].severity == "low"  # alone, weak evidence


def _dns(src: str, q: str, t: float, qtype: str = "A", answers: str | None = None) -> dict:
    return {
        "ts": at(t),
        "uid": f"D{t}",
        "src_ip": src,
        "dst_ip": "10.0.0.53",
        "query": q,
        "qtype": qtype,
        "answers": answers,
        "tenant": "default",
    }


def test_dns_tunnel_on_example_attack_and_not_on_normal_browsing() -> None:
    rnd = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    rows = []
    for i in range(400):  # base32 chunks under example.attack, TXT
        label = "".join(rnd.choice(alphabet) for _ in range(56))
        rows.append(_dns("10.0.0.30", f"{label}.{i}.t.example.attack", i * 0.2, qtype="TXT"))
    for i, name in enumerate(["www", "mail", "docs", "news", "img", "api"] * 5):
        rows.append(_dns("10.0.0.31", f"{name}.example.co.jp", i * 10.0))
    found = run("dns_tunnel", engine(dns=rows))
    assert [(f.src_ip, f.dst_domain, f.kind) for f in found] == [
        ("10.0.0.30", "t.example.attack", "dns-tunnel")
    ]
    assert found[0].score >= 0.6
    assert registered_domain("x.ns.ostrykebs.pl") == "ostrykebs.pl"
    assert registered_domain("a.b.example.co.jp") == "example.co.jp"


def test_no_dns_flags_unresolved_ip_only() -> None:
    dns = [_dns("10.0.0.5", f"n{i}.example.org", i, answers="203.0.113.5") for i in range(12)]
    conn = [flow("10.0.0.5", "203.0.113.5", 20), flow("10.0.0.5", "203.0.113.66", 30, port=8080)]
    found = run("no_dns", engine(dns=dns, conn=conn))
    assert [(f.src_ip, f.dst_ip) for f in found] == [("10.0.0.5", "203.0.113.66")]
    assert found[0].severity == "low"


def test_no_dns_prevalence_counts_all_history_also_when_scoring_new_records_only() -> None:
    hosts = [f"10.0.1.{i}" for i in range(1, 13)]  # 12 hosts, all with visible DNS
    dns = [_dns(h, f"n{i}.example.org", i, answers="192.0.2.1") for h in hosts for i in range(10)]
    conn = [flow(h, "198.51.100.77", 100) for h in hosts]  # fleet software: a literal IP all hosts use
    conn += [flow("10.0.1.1", "198.51.100.77", 5000), flow("10.0.1.1", "203.0.113.66", 5000, port=8443)]
    eng = engine(dns=dns, conn=conn)
    full = run("no_dns", eng, internal=["10.0.0.0/8"])
    new_only = run("no_dns", eng, internal=["10.0.0.0/8"], since=at(4000))
    # the shared IP is skipped in both runs (12 of 12 hosts use it, not only the one host active since then)
    assert [(f.src_ip, f.dst_ip) for f in full] == [("10.0.1.1", "203.0.113.66")]
    assert [(f.src_ip, f.dst_ip, f.score) for f in new_only] == [("10.0.1.1", "203.0.113.66", full[0].score)]
    assert full[0].evidence["population"] == new_only[0].evidence["population"] == 12


def test_archive_upload_from_http_and_files() -> None:
    http = [
        {
            "ts": at(10),
            "uid": "H1",
            "src_ip": "10.0.0.5",
            "dst_ip": "203.0.113.7",
            "method": "POST",
            "host": "upload.example.net",
            "uri": "/u",
            "request_body_len": 3_000_000,
            "orig_mime_types": "application/zip",
            "tenant": "default",
        },
        {
            "ts": at(20),
            "uid": "H2",
            "src_ip": "10.0.0.6",
            "dst_ip": "203.0.113.8",
            "method": "GET",
            "host": "news.example.org",
            "uri": "/",
            "request_body_len": 0,
            "tenant": "default",
        },
        {
            "ts": at(30),
            "uid": "H3",
            "src_ip": "10.0.0.6",
            "dst_ip": "203.0.113.9",
            "method": "PUT",
            "host": "dav.example.org",
            "uri": "/f.docx",
            "request_body_len": 400_000,
            "tenant": "default",
        },
    ]
    found = sorted(run("archive_upload", engine(http=http)), key=lambda f: -f.score)
    assert [(f.src_ip, f.dst_domain, f.score) for f in found] == [
        ("10.0.0.5", "upload.example.net", 0.5),
        ("10.0.0.6", "dav.example.org", 0.35),
    ]


def test_intel_matches_ip_domain_parent_and_ja3() -> None:
    conn = [flow("10.0.0.5", "203.0.113.66", 10, out=30_000_000)]
    dns = [_dns("10.0.0.6", "x1.evil.example", 5)]
    tls = [
        {
            "ts": at(7),
            "uid": "T1",
            "src_ip": "10.0.0.7",
            "dst_ip": "198.51.100.3",
            "sni": "ok.example.com",
            "ja3": "51c64c77e60f3980eea90869b68c58a8",
            "tenant": "default",
        }
    ]
    inds = [
        {"type": "ip", "value": "203.0.113.66", "confidence": 0.8},
        {"type": "domain", "value": "evil.example", "confidence": 0.8},
        {"type": "ja3", "value": "51c64c77e60f3980eea90869b68c58a8", "confidence": 0.7},
    ]
    found = run("intel", engine(conn=conn, dns=dns, tls=tls), indicators=inds)
    got = {(f.src_ip, f.evidence["indicator"], f.score) for f in found}
    assert got == {
        ("10.0.0.5", "203.0.113.66", 0.95),
        ("10.0.0.6", "evil.example", 0.8),
        ("10.0.0.7", "51c64c77e60f3980eea90869b68c58a8", 0.7),
    }


def test_since_limits_per_record_detectors() -> None:
    conn = [flow("10.0.0.5", "203.0.113.66", 10), flow("10.0.0.5", "203.0.113.67", 5000)]
    inds = [{"type": "ip", "value": "203.0.113.66"}, {"type": "ip", "value": "203.0.113.67"}]
    found = run("intel", engine(conn=conn), indicators=inds, since=T0.replace(hour=1))
    assert [f.dst_ip for f in found] == ["203.0.113.67"]
