"""Live NetFlow v5/v9/IPFIX collector over UDP, writing micro-batches into the lake.

Every ``flush_seconds`` the decoded records are turned into ``conn`` rows (the two directions stitched, see
:mod:`leaktrace.ingest.net.netflow`) and committed as one batch through :meth:`Lake.stage`/:meth:`Lake.commit`
under a unique key (``netflow:<host>:<port>:<time>:<random>``), so readers see whole micro-batches only. Packets
that do not decode go to ``quarantine``. The workspace's writer lock is taken for each commit without waiting:
if a file ingest holds it, the records are kept and written at the next flush.

Templates live in the collector's memory: after a restart, data sets are held until the exporters resend
their templates (they do so periodically).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from leaktrace.collect.commit import MicroBatchWriter
from leaktrace.ingest.net.netflow import FlowRecord, NetflowDecoder, NetflowError, to_conn_rows
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace

OnBatch = Callable[[str, dict[str, int]], None]


@dataclass
class CollectStats:
    packets: int = 0
    bad_packets: int = 0
    records: int = 0
    rows: int = 0
    batches: int = 0
    batch_keys: list[str] = field(default_factory=list)


class NetflowCollector:
    """``bind()`` then ``run(stop_event)`` (in a thread if you like); ``stats`` counts what happened."""

    def __init__(self, ws: Workspace, host: str = "0.0.0.0", port: int = 2055, flush_seconds: float = 2.0,
                 tenant: str | None = None, sensor: str | None = None, on_batch: OnBatch | None = None) -> None:
        self.ws = ws
        self.lake = Lake(ws.lake_dir)
        self.host = host
        self.port = port
        self.flush_seconds = flush_seconds
        self.tenant = tenant or ws.config.ingest.default_tenant
        self.sensor = sensor or ws.config.ingest.sensor
        self.on_batch = on_batch
        self.decoder = NetflowDecoder()
        self.stats = CollectStats()
        self._sock: socket.socket | None = None
        self._records: list[FlowRecord] = []
        self.writer = MicroBatchWriter(self.lake, self.tenant, self.sensor, "netflow", f"netflow://{host}:{port}")
        self._bad: list[tuple[float, str, bytes]] = []

    def bind(self) -> int:
        """Open the UDP socket; returns the bound port (useful with port 0)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind((self.host, self.port))
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self.writer.name = f"netflow://{self.host}:{self.port}"
        return self.port

    def run(self, stop_event: threading.Event) -> CollectStats:
        if self._sock is None:
            self.bind()
        assert self._sock is not None
        last_flush = time.monotonic()
        try:
            while not stop_event.is_set():
                try:
                    data, addr = self._sock.recvfrom(65535)
                except TimeoutError:
                    data = b""
                    addr = ("", 0)
                if data:
                    self._receive(data, addr[0])
                if time.monotonic() - last_flush >= self.flush_seconds:
                    self.flush()
                    last_flush = time.monotonic()
            # drain what is already queued, then write the last batch
            self._sock.settimeout(0)
            while True:
                try:
                    data, addr = self._sock.recvfrom(65535)
                except (BlockingIOError, TimeoutError):
                    break
                self._receive(data, addr[0])
            self.flush(wait=True)
        finally:
            self._sock.close()
            self._sock = None
        return self.stats

    def _receive(self, data: bytes, exporter: str) -> None:
        self.stats.packets += 1
        try:
            records = self.decoder.decode(data, exporter)
        except (NetflowError, ValueError, IndexError) as exc:
            self.stats.bad_packets += 1
            self._bad.append((time.time(), f"{exporter}: {exc}", data[:256]))
            return
        self.stats.records += len(records)
        self._records.extend(records)

    def flush(self, wait: bool = False) -> str | None:
        """Commit the pending records as one micro-batch; returns its key (None if nothing was written)."""
        if not self._records and not self._bad:
            return None
        key_salt = f"{self.host}:{self.port}:{self.stats.packets}"
        rows = {
            "conn": to_conn_rows(self._records, key_salt),
            "quarantine": [{"ts": ts, "reason": reason, "raw": raw.hex()} for ts, reason, raw in self._bad],
        }
        done = self.writer.commit(rows, wait=wait)
        if done is None:
            return None  # a file ingest holds the lock: the records stay for the next flush
        key, counts = done
        self._records, self._bad = [], []
        self.stats.batches += 1
        self.stats.rows += counts.get("conn", 0)
        self.stats.batch_keys.append(key)
        if self.on_batch is not None:
            self.on_batch(key, counts)
        return key


def collect_netflow(ws: Workspace, host: str = "0.0.0.0", port: int = 2055, flush_seconds: float = 2.0,
                    stop_event: threading.Event | None = None, tenant: str | None = None,
                    on_batch: OnBatch | None = None) -> CollectStats:
    """Collect until ``stop_event`` is set (forever, until Ctrl-C, when None)."""
    collector = NetflowCollector(ws, host, port, flush_seconds, tenant=tenant, on_batch=on_batch)
    collector.bind()
    stop = stop_event or threading.Event()
    try:
        return collector.run(stop)
    except KeyboardInterrupt:
        collector.flush(wait=True)
        return collector.stats
