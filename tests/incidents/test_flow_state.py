"""Stored named flows (:mod:`leaktrace.incidents.flow_state`): each record's flow is read from the newest segment
that built it, superseded segments are removed, other settings see nothing."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leaktrace.engine import Engine
from leaktrace.incidents.flow_state import FlowState

SETTINGS = {"internal": ["10.0.0.0/8"], "allow_servers": [], "allow_hosts": []}


def flows(label: str, times: list[float]) -> pa.Table:
    return pa.table({"uid": [f"{label}{t:g}" for t in times], "src_ip": ["10.0.0.1"] * len(times), "t": times})


def window(engine: Engine, label: str, times: list[float]) -> object:
    """The flows of a window as a table of the engine (what an incremental run keeps)."""
    engine._create_table(label, flows(label, times))
    return engine.con.table(label)


def read(state: FlowState, engine: Engine, before: int) -> list[str]:
    table = state.read(engine, before)
    return [] if table is None else sorted(table.to_pyarrow().column("uid").to_pylist())


def test_segments_supersede_older_flows_from_their_cut(tmp_path: Path) -> None:
    engine = Engine.from_arrow({})
    state = FlowState(tmp_path / "state", "ministry", SETTINGS)
    assert not state.exists() and state.read(engine, 100) is None
    full = tmp_path / "tmp" / "flow-buckets"
    for bucket, times in ((0, [10.0, 30.0]), (1, [20.0, 40.0])):  # as the full run writes them
        (full / f"bucket={bucket}").mkdir(parents=True)
        pq.write_table(flows("base", times), full / f"bucket={bucket}" / "s00000_0.parquet")
    state.adopt(full)
    assert not full.exists()
    assert read(state, engine, 35) == ["base10", "base20", "base30"]  # before the cut only; no bucket column
    assert state.read(engine, 35).columns == ("uid", "src_ip", "t")  # type: ignore[union-attr]

    state.append(window(engine, "w1-", [25.0, 30.0, 36.0, 45.0]), cut=25)
    assert read(state, engine, 40) == ["base10", "base20", "w1-25", "w1-30", "w1-36"]
    state.append(window(engine, "w2-", [33.0, 50.0]), cut=33)
    assert [s["cut"] for s in state.segments()] == [None, 25, 33]
    assert read(state, engine, 60) == ["base10", "base20", "w1-25", "w1-30", "w2-33", "w2-50"]

    # a window from an earlier cut (older records ingested late) supersedes both later windows entirely
    state.append(window(engine, "w3-", [15.0, 30.0]), cut=15)
    assert [s["cut"] for s in state.segments()] == [None, 15]
    assert sorted(p.name for p in state.folder.iterdir() if p.is_dir()) == ["seg-00000", "seg-00003"]
    assert read(state, engine, 60) == ["base10", "w3-15", "w3-30"]

    assert not FlowState(tmp_path / "state", "ministry", {**SETTINGS, "internal": ["10.1.0.0/16"]}).exists()
    assert not FlowState(tmp_path / "state", "other", SETTINGS).exists()
    state.clear()
    assert not state.exists() and not state.folder.exists()


def test_append_needs_a_full_run_first(tmp_path: Path) -> None:
    engine = Engine.from_arrow({})
    state = FlowState(tmp_path / "state", "ministry", SETTINGS)
    with pytest.raises(FileNotFoundError):
        state.append(window(engine, "w", [1.0]), cut=0)
