"""``--interface IF``: capture with tcpdump into a spool, tail it, turn packets into flows, commit per poll.

How uploads in progress become visible: tcpdump writes every packet at once (``-U``) and the spool is read
up to the last complete record at each poll (not only closed rotation files), and :class:`LiveFlows` writes
progress rows for open flows, so a long upload shows up as growing bytes, micro-batch after micro-batch,
long before its connection closes. Rotation (``rotate_s``) only bounds the size of each spool file.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from leaktrace.collect.commit import commit_rows
from leaktrace.ingest.net.common import Row
from leaktrace.lake import Lake
from leaktrace.live.flows import LiveFlows
from leaktrace.live.model import Batch
from leaktrace.live.pcaptail import PcapTail
from leaktrace.live.tcpdump import TcpdumpProcess


class PcapSpoolSource:
    """Tails a spool of rotating pcap files (written by tcpdump, or anything else) into the lake."""

    def __init__(self, lake: Lake, spool: Path, *, tenant: str, sensor: str, name: str,
                 progress_bytes: int = 64 * 1024, keep: bool = False,
                 wall: Callable[[], float] = time.time) -> None:
        self.name = name
        self.lake = lake
        self.spool = spool
        self.tenant = tenant
        self.sensor = sensor
        self.tail = PcapTail(spool, keep=keep)
        self.session = secrets.token_hex(4)
        self.flows = LiveFlows(f"{name}:{self.session}", progress_bytes=progress_bytes)
        self.carry: dict[str, list[Row]] = {}
        self.carry_files: list[str] = []
        self.seq = 0
        self.wall = wall
        self.final: Batch | None = None  # what stop() committed last

    def start(self) -> None:
        self.spool.mkdir(parents=True, exist_ok=True)

    def _commit(self, rows: dict[str, list[Row]], files: list[str], digest: str, wait: bool = False) -> Batch:
        for table, part in rows.items():
            self.carry.setdefault(table, []).extend(part)
        self.carry_files += files
        batch = Batch(self.name)
        if not any(self.carry.values()):
            self.tail.release(self.carry_files)
            self.carry_files = []
            return batch
        self.seq += 1
        key = f"live:{self.name}:{self.session}:{self.seq}:{digest[:16]}"
        written = commit_rows(self.lake, key, self.carry, tenant=self.tenant, sensor=self.sensor,
                              kind="pcap-live", name=self.name, wait=wait)
        if written is None:
            batch.notes.append("lake busy (a file ingest holds the lock): rows kept for the next batch")
            return batch
        self.tail.release(self.carry_files)
        self.carry, self.carry_files = {}, []
        batch.rows = written
        return batch

    def poll(self) -> Batch | None:
        chunk = self.tail.poll()
        for linktype, ts, frame in chunk.frames:
            self.flows.packet(linktype, ts, frame)
        return self._commit(self.flows.drain(self.wall()), chunk.files_done, chunk.digest)

    def stop(self) -> None:
        chunk = self.tail.poll()
        for linktype, ts, frame in chunk.frames:
            self.flows.packet(linktype, ts, frame)
        self.tail.done.update(p.name for p in self.spool.glob("*.pcap"))
        rows = self.flows.close()
        self.final = self._commit(rows, [*chunk.files_done, *sorted(self.tail.done)], chunk.digest, wait=True)


class InterfaceSource(PcapSpoolSource):
    """tcpdump on ``interface`` (inside ``prefix``, e.g. ``ip netns exec gw``) feeding a :class:`PcapSpoolSource`."""

    def __init__(self, lake: Lake, interface: str, spool: Path, *, tenant: str, sensor: str,
                 prefix: Sequence[str] = (), rotate_s: int = 5, progress_bytes: int = 64 * 1024) -> None:
        super().__init__(lake, spool, tenant=tenant, sensor=sensor, name=f"iface:{interface}",
                         progress_bytes=progress_bytes)
        self.capture = TcpdumpProcess(interface, spool, rotate_s=rotate_s, prefix=prefix)

    def start(self) -> None:
        super().start()  # a previous run's leftover spool files sort first and are read first
        self.capture.start()

    def poll(self) -> Batch | None:
        self.capture.check()
        return super().poll()

    def stop(self) -> None:
        self.capture.stop()
        super().stop()
