"""DNS tunnels from the Korving labs (SOURCES.md S7, S8), read from the CoreDNS query logs.

leaktrace has no CoreDNS-log ingester yet, so this test turns the log lines into normalised ``dns`` rows
itself (client, query, type, rcode) and runs the detector on them. Remove the adapter once ingest reads them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import engine, run
from tests.conftest import SHARED_DATA

DATA = SHARED_DATA / "korving-dns-tunnel"
LINE = re.compile(r'^\[INFO\] ([0-9.]+):\d+ - \d+ "(\S+) IN (\S+) \S+ \d+ \S+ \d+" (\S+)')
pytestmark = [pytest.mark.realdata, pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is absent")]


def coredns_rows(path: Path) -> list[dict]:
    t0 = datetime(2022, 4, 1, tzinfo=UTC)
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines()):
        m = LINE.match(line)
        if m:
            client, qtype, query, rcode = m.groups()
            rows.append(
                {
                    "ts": t0 + timedelta(milliseconds=20 * i),
                    "uid": f"L{i}",
                    "src_ip": client,
                    "dst_ip": "192.168.0.10",
                    "query": query,
                    "qtype": qtype,
                    "rcode": rcode,
                    "tenant": "default",
                }
            )
    return rows


@pytest.mark.parametrize("case", ["dns-iodine-coredns-txt-b64", "dns-dnscat2-coredns-c2"])
def test_korving_tunnels_are_found(case: str) -> None:
    rows = coredns_rows(DATA / case / "coredns" / "coredns.log")
    found = run("dns_tunnel", engine(dns=rows))
    assert [(f.src_ip, f.evidence["registered_domain"]) for f in found] == [
        ("192.168.0.30", "example.attack")
    ]
    assert found[0].score >= 0.6, found[0].evidence
