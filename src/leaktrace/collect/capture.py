"""Live capture on a network interface (Linux ``AF_PACKET``, needs root or CAP_NET_RAW) into the lake.

Packets go through the same flow tracker and analyzers as pcap files (:mod:`leaktrace.ingest.net.flows`), so
the rows are the same: ``conn``, ``dns``, ``http``, ``tls``, ``net_files``, ``upload_bursts``. Every
``flush_seconds`` the flows that ended (idle, closed) and the upload bursts that are over are committed as one
micro-batch (:class:`~leaktrace.collect.commit.MicroBatchWriter`). Uploads still in progress are visible two
ways before their connection closes: each burst is written as soon as it is followed by ``burst_gap`` seconds
of silence, and ``on_progress`` receives, at every flush, ``conn`` rows of the open flows with their counters
so far (``extra.in_progress``; these are not written to the lake, so nothing is counted twice).

The socket is ``SOCK_DGRAM`` (no link-layer header), which works for Ethernet, loopback, tun and ppp alike.
On ``lo`` every packet is seen twice (outgoing and incoming): the outgoing copy is dropped.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from leaktrace.collect.commit import MicroBatchWriter
from leaktrace.ingest.net.common import Row
from leaktrace.ingest.net.flows import FlowOptions, FlowTracker
from leaktrace.ingest.net.packets import LINK_RAW, Defragmenter, Fragment, decode_reassembled
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

OnBatch = Callable[[str, dict[str, int]], None]
OnProgress = Callable[[list[Row]], None]


@dataclass
class CaptureStats:
    packets: int = 0
    decoded: int = 0
    bad: int = 0
    batches: int = 0
    rows: dict[str, int] = field(default_factory=dict)


class LiveCapture:
    """``open()`` then ``run(stop_event)``; ``stats`` counts what happened."""

    def __init__(self, ws: Workspace, interface: str, flush_seconds: float = 1.0, tenant: str | None = None,
                 sensor: str | None = None, options: FlowOptions | None = None, on_batch: OnBatch | None = None,
                 on_progress: OnProgress | None = None) -> None:
        self.ws = ws
        self.interface = interface
        self.flush_seconds = flush_seconds
        self.tenant = tenant or ws.config.ingest.default_tenant
        self.sensor = sensor or ws.config.ingest.sensor
        self.on_batch = on_batch
        self.on_progress = on_progress
        self.pending: dict[str, list[Row]] = {}
        self.tracker = FlowTracker(self._emit, f"live:{interface}:{time.time()}", options or FlowOptions())
        self.writer = MicroBatchWriter(Lake(ws.lake_dir), self.tenant, self.sensor, "capture",
                                       f"capture://{interface}")
        self.stats = CaptureStats()
        self._sock: socket.socket | None = None
        self._defrag = Defragmenter()

    def _emit(self, table: str, row: Row) -> None:
        self.pending.setdefault(table, []).append(row)

    def open(self) -> None:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        sock.bind((self.interface, 0))
        sock.settimeout(0.1)
        self._sock = sock

    def run(self, stop_event: threading.Event) -> CaptureStats:
        if self._sock is None:
            self.open()
        assert self._sock is not None
        loopback = self.interface == "lo"
        last_flush = time.monotonic()
        try:
            while not stop_event.is_set():
                try:
                    data, addr = self._sock.recvfrom(262144)
                except TimeoutError:
                    data = b""
                    addr = ("", 0, 0)
                if data and not (loopback and addr[2] == PACKET_OUTGOING) and addr[1] in (0x0800, 0x86DD):
                    self._packet(data)
                if time.monotonic() - last_flush >= self.flush_seconds:
                    self.flush()
                    last_flush = time.monotonic()
            self.tracker.close()
            self.flush(wait=True)
        finally:
            self._sock.close()
            self._sock = None
        return self.stats

    def _packet(self, data: bytes) -> None:
        self.stats.packets += 1
        now = time.time()
        try:
            p = decode_reassembled(LINK_RAW, data, now, self._defrag)
        except (ValueError, IndexError, OSError):
            self.stats.bad += 1
            return
        if p is None or isinstance(p, Fragment):
            return
        self.stats.decoded += 1
        self.tracker.packet(self.stats.packets, now, p)

    def flush(self, wait: bool = False) -> str | None:
        """Finish idle flows, commit what is pending, report the open flows; returns the batch key."""
        self.tracker.sweep(time.time())
        key = None
        done = self.writer.commit(self.pending, wait=wait)
        if done is not None:
            key, counts = done
            self.pending = {}
            self.stats.batches += 1
            for t, n in counts.items():
                self.stats.rows[t] = self.stats.rows.get(t, 0) + n
            if self.on_batch is not None:
                self.on_batch(key, counts)
        if self.on_progress is not None:
            self.on_progress(self.tracker.snapshot())
        return key
