"""The engine spills to the workspace's tmp/duckdb, never to the current directory."""

from __future__ import annotations

import os
from pathlib import Path

from leaktrace.engine import Engine
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace


def test_spill_directory_is_in_the_workspace(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace.init(tmp_path / "ws")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    eng = Engine.for_lake(Lake(ws.lake_dir), memory_limit="64MB")
    setting = eng.con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0]
    assert Path(setting) == ws.tmp_dir / "duckdb" and (ws.tmp_dir / "duckdb").is_dir()
    # a sort larger than the memory limit spills there and still answers
    n = eng.con.raw_sql("SELECT count(*) FROM (SELECT range AS x, md5(range::VARCHAR) AS h FROM range(3000000) "
                        "ORDER BY h)").fetchone()[0]
    assert n == 3_000_000
    assert not any(p.name == ".tmp" for p in cwd.iterdir()) and os.listdir(cwd) == []
