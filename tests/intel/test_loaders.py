"""STIX 2.1, MISP and CSV/plain indicator loaders."""

from __future__ import annotations

import json
from pathlib import Path

from leaktrace.intel import guess_type, load_file, parse_stix_pattern


def test_stix_bundle(tmp_path: Path) -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--1",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--1",
                "pattern_type": "stix",
                "confidence": 90,
                "pattern": "[ipv4-addr:value = '203.0.113.9'] OR [domain-name:value = 'c2.example']",
            },
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--2",
                "pattern_type": "stix",
                "pattern": "[file:hashes.'SHA-256' = 'AB" + "0" * 62 + "']",
            },
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--3",
                "pattern_type": "stix",
                "pattern": "[url:value = 'http://evil.example/up.php']",
            },
        ],
    }
    p = tmp_path / "b.json"
    p.write_text(json.dumps(bundle))
    got = {(i.type, i.value, i.confidence) for i in load_file(p)}
    assert got == {
        ("ip", "203.0.113.9", 0.9),
        ("domain", "c2.example", 0.9),
        ("sha256", "ab" + "0" * 62, 0.8),
        ("url", "evil.example/up.php", 0.8),
    }
    assert parse_stix_pattern("[ipv4-addr:value = '10.0.0.0/8']") == [("cidr", "10.0.0.0/8")]


def test_misp_event(tmp_path: Path) -> None:
    ev = {
        "Event": {
            "info": "campaign",
            "Attribute": [
                {"type": "ip-dst", "value": "203.0.113.9"},
                {"type": "domain|ip", "value": "c2.example|203.0.113.10"},
            ],
            "Object": [{"Attribute": [{"type": "ja3-fingerprint-md5", "value": "A" * 32}]}],
        }
    }
    p = tmp_path / "m.json"
    p.write_text(json.dumps(ev))
    assert {(i.type, i.value) for i in load_file(p)} == {
        ("ip", "203.0.113.9"),
        ("domain", "c2.example"),
        ("ip", "203.0.113.10"),
        ("ja3", "a" * 32),
    }


def test_csv_and_plain(tmp_path: Path) -> None:
    c = tmp_path / "i.csv"
    c.write_text("type,value,description\nip-dst,203.0.113.9,c2\ndomain,evil.example,\n")
    assert {(i.type, i.value) for i in load_file(c)} == {("ip", "203.0.113.9"), ("domain", "evil.example")}
    t = tmp_path / "i.txt"
    t.write_text("# list\n203.0.113.9\nevil.example\nhttps://evil.example/a\n" + "f" * 40 + "\n")
    assert [i.type for i in load_file(t)] == ["ip", "domain", "url", "sha1"]
    assert guess_type("10.0.0.0/8") == "cidr"
