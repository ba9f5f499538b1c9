"""End to end from the shared captures: pcap ingest → the detectors → incidents naming client and server."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaktrace.incidents.analyze import analyze
from leaktrace.workspace import Workspace
from tests.conftest import shared_data
from tests.ingest_net.helpers import ingest

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _incidents(tmp_path: Path, internal: list[str], *captures: Path) -> list[tuple[str, str | None, str | None,
                                                                                     list[str]]]:
    ws = Workspace.init(tmp_path / "ws", internal=internal)
    ingest(ws, *captures)
    res = analyze(ws, full=True)
    return [(i.host_ip, i.server_ip, i.server_domain, list(i.kinds)) for i in res.incidents]


def test_https_beacon_capture_becomes_an_incident(tmp_path: Path) -> None:
    found = _incidents(tmp_path, ["147.32.80.0/24"],
                       shared_data() / "stratosphere-slips-test-cc/test-cc-capture-1.pcap")
    assert any(host == "147.32.80.37" and (ip == "141.193.213.21" or "testing.com" in (dom or ""))
               and "beaconing" in kinds for host, ip, dom, kinds in found), found


def test_dns_tunnel_capture_becomes_an_incident(tmp_path: Path) -> None:
    found = _incidents(tmp_path, ["192.168.0.0/16"],
                       shared_data() / "korving-dns-tunnel/dns-dns2tcp-dnsmasq-txt-c2/dnsmasq/dns.pcap")
    assert any(host == "192.168.0.30" and "example.attack" in (dom or "") and "dns-tunnel" in kinds
               for host, _, dom, kinds in found), found
