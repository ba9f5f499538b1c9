"""``--netflow``: the collector in a thread; each poll reports the micro-batches committed since the last."""

from __future__ import annotations

import socket
import time

from leaktrace.collect.netflow import NetflowCollector
from leaktrace.live.netflow import NetflowSource
from leaktrace.workspace import Workspace
from tests.ingest_net.helpers import nf_v5, query


def test_netflow_over_udp_on_loopback(ws: Workspace) -> None:
    src = NetflowSource(NetflowCollector(ws, "127.0.0.1", 0, flush_seconds=0.1))
    src.start()
    try:
        assert src.poll() is None
        pkt = nf_v5([{"src": "10.1.0.5", "dst": "203.0.113.7", "sport": 40000, "dport": 443, "proto": 6,
                      "pkts": 100, "bytes": 150_000, "first": 1000, "last": 9000}], 10_000, 1_700_000_000)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(pkt, ("127.0.0.1", src.collector.port))
        deadline = time.monotonic() + 10
        batch = None
        while batch is None and time.monotonic() < deadline:
            time.sleep(0.05)
            batch = src.poll()
        assert batch is not None and batch.rows.get("conn") == 1 and batch.source.startswith("netflow:")
        assert src.poll() is None
    finally:
        src.stop()
    assert query(ws, "SELECT src_ip, dst_ip, bytes_out FROM conn") == [("10.1.0.5", "203.0.113.7", 150_000 - 100 * 40)]  # IP headers off
