"""A full analysis of a large lake runs the flow detectors per host bucket, over flows built per time slice
(:mod:`leaktrace.incidents.buckets`): the same findings and incidents as one analysis over all flows at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leaktrace.config import CONFIG_NAME
from leaktrace.incidents import Store, analyze
from leaktrace.incidents.buckets import BucketParams, bucket_count
from leaktrace.workspace import Workspace

sim = pytest.importorskip("leaktrace.sim", reason="simulator not installed")
ingest = pytest.importorskip("leaktrace.ingest", reason="Zeek ingest not installed")


def test_bucket_count() -> None:
    p = BucketParams(max_rows=20, bucket_rows=1000)
    assert bucket_count(20, p) == 1  # up to max_rows: all flows at once
    assert bucket_count(2500, p) == 3


def _results(ws: Workspace) -> tuple[list[Any], list[Any]]:
    store = Store.for_workspace(ws)
    findings = sorted(
        (f.key, f.score, f.severity, f.conn_count, f.bytes_out, f.bytes_in, str(f.first_ts), str(f.last_ts),
         sorted(f.uids or []), repr(sorted(f.evidence.items())))
        for f in store.findings("ministry")
    )
    incidents = sorted(
        (i.host_ip, i.server_ip, i.server_domain, str(i.start), str(i.end), i.score, i.severity, list(i.kinds))
        for i in store.incidents("ministry")
    )
    return findings, incidents


@pytest.mark.slow
def test_host_buckets_find_what_one_pass_finds(tmp_path: Path) -> None:
    scen = tmp_path / "scen"
    sim.simulate(scen, hosts=80, days=1, seed=5)
    got = {}
    for label in ("whole", "buckets"):
        ws = Workspace.init(tmp_path / label, internal=["10.0.0.0/8"], tenant="ministry")
        if label == "buckets":  # every lake is "large": 3+ host buckets, flows joined per hour
            with (ws.root / CONFIG_NAME).open("a", encoding="utf-8") as fh:
                fh.write("\n[detect.buckets]\nmax_rows = 1\nbucket_rows = 40000\n")
            ws = Workspace.open(ws.root)
        ingest.ingest_paths(ws, [scen / "zeek"])
        progress: list[str] = []
        assert analyze(ws, progress=progress.append).mode == "full"
        assert ("flow buckets" in progress) == (label == "buckets")
        assert not (ws.root / "tmp" / "flow-buckets").exists()  # removed after the run
        got[label] = _results(ws)
    findings, incidents = got["whole"]
    assert len(findings) > 20 and any(i[6] in ("high", "critical") for i in incidents)
    assert got["buckets"][0] == findings
    assert got["buckets"][1] == incidents
