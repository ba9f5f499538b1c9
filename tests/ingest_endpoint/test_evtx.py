"""EVTX: the SigmaHQ regression samples parse record for record, into the same rows as their .json twins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import leaktrace.ingest.endpoint  # noqa: F401  (registration)
from leaktrace.engine import Engine
from leaktrace.ingest import ingest_paths
from leaktrace.ingest.endpoint.evtx import MAGIC, EvtxIngester, read_evtx
from leaktrace.ingest.endpoint.winjson import read_windows_json
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace
from tests.conftest import shared_data
from tests.ingest_endpoint.helpers import run_reader

evtx = pytest.importorskip("evtx")
pytestmark = pytest.mark.realdata


def _samples() -> list[Path]:
    root = shared_data() / "sigmahq" / "regression_data"
    files = sorted(root.rglob("*.evtx"))
    if not files:
        pytest.skip("no .evtx samples in sigmahq/regression_data")
    return files


def _records(path: Path) -> int:
    return sum(1 for _ in evtx.PyEvtxParser(str(path)).records())


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without provenance; extra/data parsed, text values stripped and case-folded (the .json twins were
    exported by another tool that trims values), the raw time text dropped (its precision differs)."""
    out = []
    for r in rows:
        r = {k: v for k, v in r.items() if k not in ("source_line", "source_file", "source_format")}
        for k in ("extra", "data"):
            if r.get(k):
                parsed = json.loads(r[k])
                parsed.pop("ts_raw", None)
                r[k] = {kk: vv.strip().casefold() if isinstance(vv, str) else vv for kk, vv in parsed.items()}
        out.append(r)
    return out


def _event_rows(tables: dict[str, Any]) -> int:
    """Rows that stand for one event each: all tables but ``assets`` (derived evidence) and the file events
    inferred from command lines."""
    n = 0
    for name, table in tables.items():
        if name == "assets":
            continue
        if name == "file_event":
            n += sum(1 for e in table.column("extra").to_pylist() if "inferred_from" not in (e or ""))
        else:
            n += table.num_rows
    return n


def test_every_sample_parses_every_record() -> None:
    files = _samples()
    total = 0
    for path in files:
        result, tables = run_reader(read_evtx, path)
        n = _records(path)
        assert result.bad_count == 0, (path, result.bad[:1])
        assert _event_rows(tables) == n, path
        total += n
    assert total >= len(files)


def test_evtx_and_json_twins_give_the_same_rows() -> None:
    compared = 0
    for path in _samples():
        twin = path.with_suffix(".json")
        if not twin.exists():
            continue
        r1, t1 = run_reader(read_evtx, path)
        r2, t2 = run_reader(read_windows_json, twin)
        assert r2.bad_count == 0, (twin, r2.bad[:1])
        assert r1.rows == r2.rows, twin
        for table in t1:
            assert _comparable(t1[table].to_pylist()) == _comparable(t2[table].to_pylist()), (twin, table)
        compared += 1
    assert compared >= 100


def test_sniff_by_magic() -> None:
    ing = EvtxIngester()
    assert ing.sniff(MAGIC + b"\x00" * 100, "x.bin")
    assert not ing.sniff(b'{"EventID": 1}', "x.evtx")


def test_damaged_chunk_is_quarantined_not_fatal(tmp_path: Path) -> None:
    path = max(_samples(), key=_records)
    data = bytearray(path.read_bytes())
    data[0x1000 + 0x300: 0x1000 + 0x380] = b"\xab" * 0x80  # inside the first chunk's records
    bad = tmp_path / "damaged.evtx"
    bad.write_bytes(bytes(data))
    result, _ = run_reader(read_evtx, bad)
    assert result.bad_count >= 1
    assert result.bad[0].line is not None and "EVTX" in result.bad[0].reason


def test_ingest_paths_reads_evtx_into_the_lake(tmp_path: Path) -> None:
    path = next(p for p in _samples() if "proc_creation" in str(p))
    ws = Workspace.init(tmp_path / "ws")
    summary = ingest_paths(ws, [path])
    (outcome,) = summary.sources
    assert (outcome.status, outcome.format) == ("ingested", "evtx")
    eng = Engine.for_lake(Lake(ws.lake_dir))
    procs = eng.table("process").to_pyarrow()
    assert procs.num_rows == outcome.rows["process"] >= 1
    assert set(procs.column("source_format").to_pylist()) == {"evtx"}
    # idempotent: a second run adds nothing
    again = ingest_paths(ws, [path])
    assert again.sources[0].status == "already-ingested"
