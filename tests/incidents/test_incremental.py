"""Incremental analysis with stored population facts gives the findings a recomputation over all history
gives: one simulated day, the last hour ingested afterwards."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from leaktrace.config import CONFIG_NAME
from leaktrace.engine.state import FactsState
from leaktrace.incidents import Store, analyze
from leaktrace.incidents.flow_state import FlowState
from leaktrace.workspace import Workspace

sim = pytest.importorskip("leaktrace.sim", reason="simulator not installed")
ingest = pytest.importorskip("leaktrace.ingest", reason="Zeek ingest not installed")


def split_last_hour(day: Path, head: Path, tail: Path, seconds: float = 3600) -> None:
    """Records of the last ``seconds`` of ``day`` into ``tail``, the others into ``head``."""
    logs = sorted(day.rglob("*.log"))
    stamps = [
        float(ln.split("\t", 1)[0])
        for log in logs
        for ln in log.read_text(encoding="utf-8").splitlines()
        if ln and not ln.startswith("#")
    ]
    cut = max(stamps) - seconds
    for log in logs:
        lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
        header = [ln for ln in lines if ln.startswith("#")]
        recs = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
        for folder, keep in ((head, False), (tail, True)):
            out = folder / log.relative_to(day)
            out.parent.mkdir(parents=True, exist_ok=True)
            part = [r for r in recs if (float(r.split("\t", 1)[0]) >= cut) == keep]
            out.write_text("".join(header + part), encoding="utf-8")


def stored_facts(ws: Workspace) -> dict[str, Any]:
    """The stored facts of ``ws`` as sets, base and deltas together (repeats merged as readers see them)."""
    out: dict[str, Any] = {}
    for name in ("host_servers", "dns_pairs", "dns_first_answers"):
        files = sorted((ws.state_dir / "analyze").rglob(f"{name}-*.parquet"))
        rows = [r for f in files for r in pq.read_table(f).to_pylist()]
        if name == "dns_pairs":
            out[name] = {tuple(sorted(r.items())) for r in rows}
            continue
        if name == "dns_first_answers":  # the earliest answer per address
            first: dict[str, int] = {}
            for r in rows:
                first[r["a"]] = min(first.get(r["a"], r["first_resolved"]), r["first_resolved"])
            out[name] = first
            continue
        merged: dict[tuple[Any, ...], tuple[int, int]] = {}
        for r in rows:
            k = (r["src_ip"], r["server"], r["dst_ip"], r["ja3"])
            a, b = merged.get(k, (r["first"], r["last"]))
            merged[k] = (min(a, r["first"]), max(b, r["last"]))
        out[name] = merged
    return out


def findings(ws: Workspace) -> list[tuple[str, float, int, int]]:
    return sorted(
        (f.key, round(f.score, 4), f.conn_count, f.bytes_out)
        for f in Store.for_workspace(ws).findings("ministry")
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("compact", "large"), [(False, False), (True, False), (False, True)], ids=["deltas", "compacted", "flow-state"]
)
def test_incremental_with_stored_facts_equals_recomputation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compact: bool, large: bool
) -> None:
    """``large``: the lake counts as large (host buckets), so the full run keeps its named flows and the
    incremental runs read the history of their hosts from them, each adding its window (flow_state.py)."""
    if compact:  # the second incremental run rewrites the base merged instead of adding a second delta
        monkeypatch.setattr(FactsState, "compact_due", lambda self: len(self.deltas()) >= 1)
    scen = tmp_path / "scen"
    sim.simulate(scen, hosts=60, days=1, seed=4)
    day = sorted(p for p in (scen / "zeek").iterdir() if p.is_dir())[0]
    split_last_hour(day, tmp_path / "head", tmp_path / "tail")
    split_last_hour(tmp_path / "tail", tmp_path / "tail-1", tmp_path / "tail-2", seconds=1800)
    got, facts = {}, {}
    for label in ("scoped", "recomputed"):
        ws = Workspace.init(tmp_path / label, internal=["10.0.0.0/8"], tenant="ministry")
        if large and label == "scoped":
            with (ws.root / CONFIG_NAME).open("a", encoding="utf-8") as fh:
                fh.write("\n[detect.buckets]\nmax_rows = 1\nbucket_rows = 40000\n")
            ws = Workspace.open(ws.root)
        flows = FlowState(ws.state_dir, "ministry", {"internal": ["10.0.0.0/8"], "allow_servers": [], "allow_hosts": []})
        ingest.ingest_paths(ws, [tmp_path / "head"])
        assert analyze(ws).mode == "full"
        assert flows.exists() == (large and label == "scoped")
        assert list((ws.state_dir / "analyze").rglob("host_servers-*.parquet"))
        assert list((ws.state_dir / "analyze").rglob("dns_pairs-*.parquet"))
        if label == "scoped":  # two incremental runs: each adds its new facts to the stored ones
            ingest.ingest_paths(ws, [tmp_path / "tail-1"])
            assert analyze(ws).mode == "incremental"
            assert list((ws.state_dir / "analyze").rglob("host_servers-*.delta-1.parquet"))
            ingest.ingest_paths(ws, [tmp_path / "tail-2"])
            res = analyze(ws)
            cuts = [s["cut"] for s in flows.segments()]
            assert len(cuts) == (3 if large else 0)  # the full run's flows and the window of each run
            if large:
                assert cuts[0] is None and cuts[1] < cuts[2] < res.since.timestamp()
            deltas = sorted(p.name.split(".", 1)[1] for p in (ws.state_dir / "analyze").rglob("*.delta-*.parquet"))
            assert deltas == ([] if compact else ["delta-1.parquet"] * 3 + ["delta-2.parquet"] * 3)
            if not compact:  # the answers of the new records are stored (their addresses were answered before)
                added = (ws.state_dir / "analyze").rglob("dns_first_answers-*.delta-*.parquet")
                assert all(pq.read_metadata(f).num_rows > 0 for f in added)
        else:  # no stored facts: all history is read again
            ingest.ingest_paths(ws, [tmp_path / "tail"])
            shutil.rmtree(ws.state_dir / "analyze")
            res = analyze(ws)
        assert res.mode == "incremental" and res.since is not None
        got[label] = findings(ws)
        facts[label] = stored_facts(ws)
    assert got["scoped"] == got["recomputed"]
    assert facts["scoped"] == facts["recomputed"]  # deltas (or the compacted base) hold what a rebuild holds
    assert len(facts["scoped"]["host_servers"]) > 10 and len(facts["scoped"]["dns_first_answers"]) > 10
    assert len(got["scoped"]) > 10
