"""Following a Zeek log folder: complete lines only, rotation and archives never duplicate, restarts resume."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from leaktrace.ingest import ingest_paths
from leaktrace.live.zeektail import ZeekDirSource
from leaktrace.workspace import Workspace
from tests.ingest_net.helpers import query
from tests.zeekgen import CONN_FIELDS, CONN_TYPES, conn_row, header

HEAD = header("conn", CONN_FIELDS, CONN_TYPES)


def source(ws: Workspace, logs: Path) -> ZeekDirSource:
    src = ZeekDirSource(logs, ws.state_dir / "live" / "spool", ws.state_dir / "live" / "zeek.json",
                        ingest=lambda paths: ingest_paths(ws, paths))
    src.start()
    return src


def rows(a: int, b: int) -> str:
    return "".join(conn_row(i) + "\n" for i in range(a, b))


def count(ws: Workspace) -> int:
    return int(query(ws, "SELECT count(*) FROM conn")[0][0]) if list(ws.lake_dir.rglob("*.parquet")) else 0


def test_growing_log_with_a_partial_line(ws: Workspace, tmp_path: Path) -> None:
    logs = tmp_path / "zeek"
    logs.mkdir()
    conn = logs / "conn.log"
    conn.write_text(HEAD + rows(0, 3) + conn_row(3)[:20])  # the 4th line is still being written
    src = source(ws, logs)
    batch = src.poll()
    assert batch is not None and batch.rows == {"conn": 3}
    assert src.poll() is None  # nothing new
    conn.write_text(HEAD + rows(0, 5))
    assert src.poll().rows == {"conn": 2}  # type: ignore[union-attr]
    assert count(ws) == 5 and not list((ws.state_dir / "live" / "spool").iterdir())


def test_rotation_and_gzip_archive_do_not_duplicate(ws: Workspace, tmp_path: Path) -> None:
    logs = tmp_path / "zeek"
    logs.mkdir()
    (logs / "conn.log").write_text(HEAD + rows(0, 4))
    src = source(ws, logs)
    src.poll()
    # Zeek rotates: the file is renamed with its last lines and a #close; a new conn.log starts
    closed = HEAD + rows(0, 6) + "#close\t2024-01-01-01-00-00\n"
    (logs / "conn.log").rename(logs / "conn.2024-01-01-00-00-00.log")
    (logs / "conn.2024-01-01-00-00-00.log").write_text(closed)
    new_head = HEAD.replace("#open\t2024-01-01-00-00-00", "#open\t2024-01-01-01-00-00")
    (logs / "conn.log").write_text(new_head + rows(100, 102))
    assert src.poll().rows == {"conn": 4}  # type: ignore[union-attr]
    # the archive copy of the rotated file (compressed) brings nothing new
    with gzip.open(logs / "conn.2024-01-01-00-00-00.log.gz", "wt") as f:
        f.write(closed)
    assert src.poll() is None
    assert count(ws) == 8


def test_restart_resumes_from_the_saved_state(ws: Workspace, tmp_path: Path) -> None:
    logs = tmp_path / "zeek"
    logs.mkdir()
    (logs / "conn.log").write_text(HEAD + rows(0, 3))
    source(ws, logs).poll()
    (logs / "conn.log").write_text(HEAD + rows(0, 5))
    again = source(ws, logs)  # a new watch process
    assert again.poll().rows == {"conn": 2}  # type: ignore[union-attr]
    assert count(ws) == 5
    assert json.loads((ws.state_dir / "live" / "zeek.json").read_text())


def test_crash_between_ingest_and_state_save_reingests_nothing(ws: Workspace, tmp_path: Path) -> None:
    logs = tmp_path / "zeek"
    logs.mkdir()
    (logs / "conn.log").write_text(HEAD + rows(0, 3))
    src = source(ws, logs)
    chunks, _ = src.pending()
    ingest_paths(ws, chunks)  # ingested, then the process died before saving its state
    src2 = source(ws, logs)
    batch = src2.poll()
    assert batch is not None and batch.rows == {}
    assert count(ws) == 3


def test_json_logs(ws: Workspace, tmp_path: Path) -> None:
    logs = tmp_path / "zeek"
    logs.mkdir()
    recs = [{"ts": 1_700_000_000 + i, "uid": f"C{i}", "id.orig_h": "10.1.0.5", "id.orig_p": 40000 + i,
             "id.resp_h": "203.0.113.7", "id.resp_p": 443, "proto": "tcp", "orig_bytes": 10} for i in range(3)]
    (logs / "conn.log").write_text("".join(json.dumps(r) + "\n" for r in recs[:2]))
    src = source(ws, logs)
    assert src.poll().rows == {"conn": 2}  # type: ignore[union-attr]
    (logs / "conn.log").write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert src.poll().rows == {"conn": 1}  # type: ignore[union-attr]
