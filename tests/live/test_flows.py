"""Flows across micro-batches: progress rows make an open upload visible; a uid's rows sum to its totals."""

from __future__ import annotations

import json
from pathlib import Path

import dpkt

from leaktrace.collect.commit import commit_rows
from leaktrace.lake import Lake
from leaktrace.live.flows import LiveFlows
from leaktrace.live.interface import PcapSpoolSource
from leaktrace.workspace import Workspace
from tests.ingest_net.helpers import ACK, Capture, client_hello, ingest, query

PC, SRV = "10.1.0.5", "203.0.113.7"
T0 = 1_700_000_000.0


def upload_capture(pieces: int = 6, piece: int = 200_000) -> Capture:
    cap = Capture()
    cap.handshake(T0, PC, 40001, SRV, 443)
    hello = client_hello("files.example.net", [0x1301, 0x1302], [0, 10, 11, 13, 43], [29, 23], [0],
                         [0x0403], ["http/1.1"], [0x0304])
    cap.tcp(T0 + 0.01, PC, 40001, SRV, 443, ACK | dpkt.tcp.TH_PUSH, hello)
    ts = T0 + 0.1
    for i in range(pieces):
        ts = cap.send(T0 + 1 + i, PC, 40001, SRV, 443, bytes([i]) * piece)
        cap.tcp(ts, SRV, 443, PC, 40001, ACK, b"ok")
    cap.close(ts + 0.5, PC, 40001, SRV, 443)
    return cap


def feed(flows: LiveFlows, frames: list[tuple[float, bytes]]) -> None:
    for ts, frame in frames:
        flows.packet(1, ts, frame)


def test_progress_rows_sum_to_the_flow(tmp_path: Path) -> None:
    cap = upload_capture()
    flows = LiveFlows("t", progress_bytes=64 * 1024)
    half = len(cap.frames) // 2
    feed(flows, cap.frames[:half])
    first = flows.drain(now=cap.frames[half - 1][0] + 0.1)
    (progress,) = first["conn"]
    assert json.loads(progress["extra"])["in_progress"] and 0 < progress["bytes_out"] < 1_200_000
    assert flows.drain(now=cap.frames[half - 1][0] + 0.2) == {}  # nothing new: no row
    feed(flows, cap.frames[half:])
    rest = flows.drain(now=cap.frames[-1][0] + 10)  # closed long ago: the final row
    rows = first["conn"] + rest["conn"]
    assert len({r["uid"] for r in rows}) == 1 and {r["ts"] for r in rows} == {progress["ts"]}
    assert sum(r["bytes_out"] for r in rows) == 1_200_000 + _hello_len()
    assert sum(r["bytes_in"] for r in rows) == 6 * len(b"ok")
    assert "tls" in rest
    assert json.loads(rest["conn"][-1]["extra"])["final_segment"] == 2


def _hello_len() -> int:
    return len(client_hello("files.example.net", [0x1301, 0x1302], [0, 10, 11, 13, 43], [29, 23], [0],
                            [0x0403], ["http/1.1"], [0x0304]))


def test_spool_source_commits_growing_upload_matching_file_ingest(tmp_path: Path, ws: Workspace) -> None:
    cap = upload_capture()
    whole = cap.write(tmp_path / "whole.pcap").read_bytes()
    spool = tmp_path / "spool"
    spool.mkdir()
    now = [T0 + 2.5]
    src = PcapSpoolSource(Lake(ws.lake_dir), spool, tenant="default", sensor="s1", name="iface:test",
                          wall=lambda: now[0])
    src.start()
    # the file as tcpdump has written it so far: up to the third piece
    cut = next(i for i, (ts, _) in enumerate(cap.frames) if ts >= T0 + 3)
    partial = Capture()
    partial.frames = cap.frames[:cut]
    (spool / "chunk-1.pcap").write_bytes(partial.write(tmp_path / "p.pcap").read_bytes())
    b1 = src.poll()
    assert b1 is not None and b1.rows.get("conn") == 1
    mid = query(ws, "SELECT sum(bytes_out) FROM conn")[0][0]
    assert 300_000 < mid < 1_200_000  # visible while the connection is still open
    (spool / "chunk-1.pcap").write_bytes(whole)
    now[0] = T0 + 60
    src.poll()
    src.stop()
    live = query(ws, "SELECT uid, sum(bytes_out), sum(bytes_in), count(*) FROM conn GROUP BY uid")
    ((uid, out, inn, n),) = live
    assert n >= 2 and not list(spool.glob("*.pcap"))
    ref_ws = Workspace.init(tmp_path / "ref", internal=["10.0.0.0/8"])
    ingest(ref_ws, tmp_path / "whole.pcap")
    ((ref_out, ref_in),) = query(ref_ws, "SELECT sum(bytes_out), sum(bytes_in) FROM conn")
    assert (out, inn) == (ref_out, ref_in)
    assert query(ws, f"SELECT sni FROM tls WHERE uid = '{uid}'") == [("files.example.net",)]


def test_commit_is_idempotent_per_key(ws: Workspace) -> None:
    lake = Lake(ws.lake_dir)
    rows = {"conn": [{"ts": T0, "uid": "Cx", "src_ip": PC, "dst_ip": SRV, "bytes_out": 5}]}
    args = {"tenant": "default", "sensor": "s", "kind": "pcap-live", "name": "t"}
    assert commit_rows(lake, "k1", {t: [dict(r) for r in v] for t, v in rows.items()}, **args) == {"conn": 1}
    assert commit_rows(lake, "k1", {t: [dict(r) for r in v] for t, v in rows.items()}, **args) == {}
    assert query(ws, "SELECT count(*) FROM conn") == [(1,)]
