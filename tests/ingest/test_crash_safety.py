"""An ingest killed midway, then re-run, gives exactly the rows of one clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leaktrace.engine import Engine
from leaktrace.ingest import ingest_paths
from leaktrace.lake import Lake, manifest
from leaktrace.workspace import Workspace
from tests.zeekgen import conn_log


def _write_big_conn(path: Path, blocks: int) -> None:
    block = conn_log(20_000)
    head, _, rest = block.partition("\n#fields")
    header_end = block.index("\n", block.index("#types")) + 1
    rows = block[header_end:].replace("#close\t2024-01-01-01-00-00\n", "")
    with path.open("w") as f:
        f.write(block[:header_end])
        for b in range(blocks):
            # distinct uids per block so every row is unique
            f.write(rows.replace("\tC", f"\tB{b:04d}C"))


def _rows(ws: Workspace) -> list[tuple[str, int]]:
    t = Engine.for_lake(Lake(ws.lake_dir)).table("conn")
    return sorted(zip(t.uid.to_pyarrow().to_pylist(), t.source_line.to_pyarrow().to_pylist(), strict=True))


@pytest.mark.slow
def test_kill_midway_then_rerun_equals_clean_run(tmp_path: Path) -> None:
    src_a = tmp_path / "a" / "conn.log"
    src_a.parent.mkdir()
    _write_big_conn(src_a, 60)  # 1.2 M rows
    src_b = tmp_path / "b.log"
    src_b.write_text(conn_log(500))
    clean = Workspace.init(tmp_path / "clean")
    ingest_paths(clean, [src_b, src_a.parent])

    killed = Workspace.init(tmp_path / "killed")
    ingest_paths(killed, [src_b])  # one source committed before the crash
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "leaktrace", "ingest", "-w", str(killed.root), str(src_a.parent)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    staging = killed.lake_dir / "_staging"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(staging.rglob("*.parquet")):
            break
        time.sleep(0.02)
    else:
        proc.kill()
        pytest.fail("the ingest never started writing")
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert Lake(killed.lake_dir).row_counts().get("conn") == 500  # nothing of the killed source visible

    ingest_paths(killed, [src_b, src_a.parent])
    assert _rows(killed) == _rows(clean)
    assert not any((killed.lake_dir / "_staging").iterdir())


def test_failure_inside_commit_leaves_nothing_visible(ws: Workspace, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "conn.log"
    p.write_text(conn_log(100, ts0=1_700_000_000.0) + conn_log(100, start=100, ts0=1_700_100_000.0))
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(a: str, b: str) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the first day's file is already in place
            raise OSError("disk went away")
        real_replace(a, b)

    monkeypatch.setattr(manifest.os, "replace", flaky_replace)
    summary = ingest_paths(ws, [p])
    assert summary.sources[0].status == "failed"
    assert Lake(ws.lake_dir).row_counts() == {}
    monkeypatch.setattr(manifest.os, "replace", real_replace)
    again = ingest_paths(ws, [p])
    assert again.rows == {"conn": 200}
    assert len(_rows(ws)) == 200
    # the orphan of the failed commit was removed, not counted twice
    assert len(list(ws.lake_dir.glob("tenant=*/table=conn/day=*/*.parquet"))) == 2
