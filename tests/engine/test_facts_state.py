"""Stored analysis facts: a base written by full runs, one delta per incremental run, read back as their union,
compacted into a new base after ``max_deltas`` deltas; settings changes make the stored facts unused."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from leaktrace.engine import Engine
from leaktrace.engine.state import FactsState


def _facts(*rows: tuple[str, int]) -> pa.Table:
    return pa.table({"src_ip": [r[0] for r in rows], "first": [r[1] for r in rows]})


def _read(state: FactsState) -> list[tuple[str, int]]:
    table = state.load(Engine.from_arrow({}))
    assert table is not None
    return sorted((r["src_ip"], r["first"]) for r in table.to_pyarrow().to_pylist())


def test_deltas_are_read_with_the_base(tmp_path: Path) -> None:
    state = FactsState(tmp_path, "ministry", {"internal": ["10.0.0.0/8"]})
    assert state.load(Engine.from_arrow({})) is None
    with pytest.raises(FileNotFoundError):
        state.append(_facts(("10.0.0.1", 1)))  # a delta needs a base
    state.save(_facts(("10.0.0.1", 1), ("10.0.0.2", 2)))
    state.append(_facts(("10.0.0.3", 3)))
    state.append(_facts(("10.0.0.1", 1)))  # the same fact again: kept (readers take distinct counts/min/max)
    assert [p.name.split(".", 1)[1] for p in state.deltas()] == ["delta-1.parquet", "delta-2.parquet"]
    assert _read(state) == [("10.0.0.1", 1), ("10.0.0.1", 1), ("10.0.0.2", 2), ("10.0.0.3", 3)]
    state.save(_facts(("10.0.0.9", 9)))  # a new base replaces base and deltas
    assert state.deltas() == [] and _read(state) == [("10.0.0.9", 9)]


def test_compaction_is_due_after_max_deltas(tmp_path: Path) -> None:
    state = FactsState(tmp_path, "ministry", {}, max_deltas=2)
    state.save(_facts(("10.0.0.1", 1)))
    for i in range(2):
        assert not state.compact_due()
        state.append(_facts((f"10.0.1.{i}", i)))
    assert state.compact_due()
    for i in range(10, 12):  # delta numbers keep increasing past 9 (numeric, not text order)
        state.append(_facts((f"10.0.2.{i}", i)))
    assert [int(p.name.rsplit("-", 1)[1].split(".")[0]) for p in state.deltas()] == [1, 2, 3, 4]


def test_other_settings_do_not_see_the_facts(tmp_path: Path) -> None:
    FactsState(tmp_path, "ministry", {"internal": ["10.0.0.0/8"]}).save(_facts(("10.0.0.1", 1)))
    other = FactsState(tmp_path, "ministry", {"internal": ["172.16.0.0/12"]})
    assert not other.exists() and other.load(Engine.from_arrow({})) is None
    other.save(_facts(("172.16.0.1", 1)))  # and its first save removes the facts of the old settings
    assert not FactsState(tmp_path, "ministry", {"internal": ["10.0.0.0/8"]}).exists()
