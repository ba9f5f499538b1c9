"""Tailing rotating pcap files: complete records only, rotation, release after commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaktrace.live.pcaptail import PcapTail, PcapTailError
from tests.ingest_net.helpers import ACK, PSH, Capture


def _pcap_bytes(tmp_path: Path, n: int, ts0: float = 1_700_000_000.0) -> bytes:
    cap = Capture()
    for i in range(n):
        cap.tcp(ts0 + i, "10.1.0.5", 40000, "203.0.113.7", 443, ACK | PSH, b"x" * 100)
    return cap.write(tmp_path / f"src-{n}-{ts0}.pcap").read_bytes()


def test_partial_records_wait_for_the_rest(tmp_path: Path) -> None:
    data = _pcap_bytes(tmp_path, 3)
    spool = tmp_path / "spool"
    spool.mkdir()
    f = spool / "chunk-1.pcap"
    tail = PcapTail(spool)
    f.write_bytes(data[:10])  # not even the header
    assert tail.poll().frames == []
    f.write_bytes(data[:24 + 16 + 50])  # header + half of the first record
    assert tail.poll().frames == []
    f.write_bytes(data[: len(data) - 5])  # two records and a half
    chunk = tail.poll()
    assert [round(ts) for _, ts, _ in chunk.frames] == [1_700_000_000, 1_700_000_001]
    assert chunk.frames[0][0] == 1  # Ethernet
    f.write_bytes(data)
    assert [round(ts) for _, ts, _ in tail.poll().frames] == [1_700_000_002]
    assert tail.poll().frames == [] and f.exists()  # still the newest file: kept open


def test_rotation_finishes_and_release_deletes(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "chunk-1.pcap").write_bytes(_pcap_bytes(tmp_path, 2))
    (spool / "chunk-2.pcap").write_bytes(_pcap_bytes(tmp_path, 1, ts0=1_700_000_100.0))
    tail = PcapTail(spool)
    chunk = tail.poll()
    assert len(chunk.frames) == 3 and chunk.files_done == ["chunk-1.pcap"] and chunk.digest
    assert (spool / "chunk-1.pcap").exists()  # deleted only once committed
    tail.release(chunk.files_done)
    assert not (spool / "chunk-1.pcap").exists() and (spool / "chunk-2.pcap").exists()
    assert tail.poll().frames == []


def test_not_a_pcap(tmp_path: Path) -> None:
    (tmp_path / "chunk-1.pcap").write_bytes(b"\x0a\x0d\x0d\x0a" + b"\0" * 40)
    with pytest.raises(PcapTailError, match="not a classic pcap"):
        PcapTail(tmp_path).poll()
