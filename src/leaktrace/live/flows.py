"""Packets → flow rows that survive across micro-batches, with uploads visible while they are in progress.

One :class:`~leaktrace.ingest.net.flows.FlowTracker` lives as long as the watch, so a connection keeps one
``uid`` (and its TLS SNI / HTTP Host) however many micro-batches it spans. Finished flows are written as the
pcap ingest writes them. A flow still open that moved at least ``progress_bytes`` since it was last reported
is written as a *progress row*: a ``conn`` row with the same ``uid`` and start ``ts`` that carries only the
counters added since the previous row (``extra.in_progress``). When the flow ends its final row carries the
rest. Summing a uid's rows therefore gives the flow's totals exactly: volume detectors see a long upload
grow batch by batch, and nothing is counted twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from leaktrace.ingest.net.common import Row
from leaktrace.ingest.net.flows import FlowOptions, FlowTracker
from leaktrace.ingest.net.packets import Defragmenter, Fragment, decode_reassembled

COUNTERS = ("bytes_out", "bytes_in", "pkts_out", "pkts_in", "ip_bytes_out", "ip_bytes_in", "missed_bytes")
LIVE_OPTIONS = FlowOptions(close_delay=1.0, burst_gap=1.0)


@dataclass
class FlowStats:
    packets: int = 0
    bad: int = 0
    progress_rows: int = 0


def _extra(row: Row, **more: Any) -> str:
    raw = row.get("extra")
    base: dict[str, Any] = {}
    if isinstance(raw, str) and raw:
        try:
            base = json.loads(raw)
        except ValueError:
            base = {}
    base.update(more)
    return json.dumps(base, separators=(",", ":"), sort_keys=True)


class LiveFlows:
    """Feed packets with :meth:`packet`; :meth:`drain` returns the rows to commit (per table) as of ``now``."""

    def __init__(self, salt: str, options: FlowOptions | None = None, progress_bytes: int = 64 * 1024) -> None:
        self.pending: dict[str, list[Row]] = {}
        self.reported: dict[str, dict[str, int]] = {}
        self.segments: dict[str, int] = {}
        self.progress_bytes = progress_bytes
        self.tracker = FlowTracker(self._emit, salt, options or LIVE_OPTIONS)
        self.defrag = Defragmenter()
        self.stats = FlowStats()

    def _emit(self, table: str, row: Row) -> None:
        if table == "conn" and row.get("uid") in self.reported:
            done = self.reported.pop(row["uid"])
            for c in COUNTERS:
                row[c] = max(0, int(row.get(c) or 0) - done.get(c, 0))
            row["extra"] = _extra(row, final_segment=self.segments.pop(row["uid"], 0) + 1)
        self.pending.setdefault(table, []).append(row)

    def packet(self, linktype: int, ts: float, frame: bytes) -> None:
        self.stats.packets += 1
        try:
            p = decode_reassembled(linktype, frame, ts, self.defrag)
        except (ValueError, IndexError, OSError):
            self.stats.bad += 1
            return
        if p is None or isinstance(p, Fragment):
            return
        self.tracker.packet(self.stats.packets, ts, p)

    def _progress(self) -> None:
        for row in self.tracker.snapshot():
            uid = str(row["uid"])
            done = self.reported.get(uid, {})
            delta = {c: int(row.get(c) or 0) - done.get(c, 0) for c in COUNTERS}
            if delta["bytes_out"] + delta["bytes_in"] < self.progress_bytes:
                continue
            self.reported[uid] = {c: int(row.get(c) or 0) for c in COUNTERS}
            seg = self.segments.get(uid, 0) + 1
            self.segments[uid] = seg
            out = dict(row)
            out.update(delta)
            out["extra"] = _extra(row, in_progress=True, segment=seg)
            self.pending.setdefault("conn", []).append(out)
            self.stats.progress_rows += 1

    def drain(self, now: float) -> dict[str, list[Row]]:
        """Finish idle/closed flows as of ``now``, add progress rows of open ones, hand over the rows."""
        self.tracker.sweep(now)
        self._progress()
        out, self.pending = self.pending, {}
        return out

    def close(self) -> dict[str, list[Row]]:
        self.tracker.close()
        out, self.pending = self.pending, {}
        return out
