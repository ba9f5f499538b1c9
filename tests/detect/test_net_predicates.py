"""The Ibis address predicates agree with Python's ipaddress on every address class they are used for."""

from __future__ import annotations

import pyarrow as pa

from leaktrace.detect.net import NON_ROUTABLE, in_networks, ip_in
from leaktrace.engine import Engine

ADDRESSES = [
    "10.0.0.5", "10.255.1.1", "100.1.2.3", "1.10.0.1", "172.16.0.1", "172.31.255.255", "172.32.0.1",
    "192.168.1.1", "192.169.0.1", "224.0.0.251", "239.255.255.250", "240.0.0.1", "223.1.1.1", "0.0.0.0",
    "127.0.0.1", "169.254.1.1", "169.255.0.1", "255.255.255.255", "8.8.8.8", "fe80::1", "FE80::1", "fd00::1",
    "fc00::2", "ff02::fb", "2001:db8::1", "::1", "10", "", "203.0.113.9", "1.2.3.4", "Fe80::1", "fE9a::1",
    "FF02::1", "2.3.4.5", "3.0.0.1", "::ffff:10.0.0.1",
]
NETWORKS = [
    ["10.0.0.0/8"], ["172.16.0.0/12", "192.168.0.0/16"], NON_ROUTABLE, ["fc00::/7"], ["203.0.113.9"],
    ["203.0.113.0/24", "1.0.0.0/8"], [], ["2000::/3"], ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
    ["10.1.0.0/16", "10.2.0.0/16", "10.0.0.0/24"],
]


def test_in_networks_matches_ipaddress() -> None:
    eng = Engine.from_arrow({"ips": pa.table({"ip": ADDRESSES})})
    t = eng.table("ips")
    for nets in NETWORKS:
        got = t.select("ip", hit=in_networks(t.ip, nets)).to_pyarrow().to_pylist()
        for r in got:
            assert bool(r["hit"]) == ip_in(r["ip"], nets), (r["ip"], nets)
