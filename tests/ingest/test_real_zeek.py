"""Every Zeek log in the shared real data ingests: row counts equal data lines, values match the raw file."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from leaktrace.engine import Engine
from leaktrace.ingest import ingest_paths
from leaktrace.ingest.zeek_maps import PRIMARY_TABLE
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace
from tests.conftest import SHARED_DATA


def _is_zeek(head: bytes) -> bool:
    return head.startswith(b"#separator")


def _discover() -> Iterator[tuple[str, Path, str | None]]:
    if not SHARED_DATA.is_dir():
        return
    for path in sorted(SHARED_DATA.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    with z.open(info) as f:
                        if _is_zeek(f.read(16)):
                            yield f"{path.relative_to(SHARED_DATA)}!/{info.filename}", path, info.filename
        else:
            with path.open("rb") as f:
                if _is_zeek(f.read(16)):
                    yield str(path.relative_to(SHARED_DATA)), path, None


LOGS = list(_discover())


def _raw_text(path: Path, member: str | None) -> str:
    if member is None:
        return path.read_text(encoding="utf-8", errors="replace")
    with zipfile.ZipFile(path) as z:
        return io.TextIOWrapper(z.open(member), encoding="utf-8", errors="replace").read()


def _parse(text: str) -> tuple[list[str], str, list[tuple[int, list[str]]]]:
    fields: list[str] = []
    log_path = ""
    rows = []
    for n, line in enumerate(text.split("\n"), start=1):
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line.startswith("#path"):
            log_path = line.split("\t")[1]
        elif line and not line.startswith("#"):
            rows.append((n, line.split("\t")))
    return fields, log_path, rows


def test_shared_data_has_zeek_logs() -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder not found at {SHARED_DATA}")
    assert len(LOGS) >= 20


@pytest.mark.realdata
@pytest.mark.parametrize(("label", "path", "member"), LOGS, ids=[x[0] for x in LOGS])
def test_real_zeek_log_ingests(label: str, path: Path, member: str | None, tmp_path: Path) -> None:
    text = _raw_text(path, member)
    fields, log_path, rows = _parse(text)
    source = tmp_path / (Path(member).name if member else path.name)
    source.write_text(text, encoding="utf-8")
    ws = Workspace.init(tmp_path / "ws")
    summary = ingest_paths(ws, [source])
    outcome = summary.sources[0]
    assert outcome.status == "ingested", outcome.error
    assert outcome.quarantined == 0, outcome.bad_lines[:5]
    table = PRIMARY_TABLE.get(log_path, "other_log")
    assert outcome.rows.get(table, 0) == len(rows), f"{label}: {outcome.rows} vs {len(rows)} data lines"
    if not rows:
        return
    eng = Engine.for_lake(Lake(ws.lake_dir))
    by_line = {r["source_line"]: r for r in eng.table(table).to_pyarrow().to_pylist()}
    for line_no, values in (rows[0], rows[len(rows) // 2], rows[-1]):
        raw = {f: (None if v == "-" else v) for f, v in zip(fields, values, strict=True)}
        got = by_line[line_no]
        if table == "other_log":
            kept = json.loads(got["fields"])
            assert float(kept["ts"]) == pytest.approx(float(raw["ts"] or "nan"), abs=1e-6)
            assert got["log_type"] == log_path
            continue
        if "ts" in raw:
            assert got["ts"].timestamp() == pytest.approx(float(raw["ts"]), abs=1e-6)
        if "uid" in raw and "uid" in got:
            assert got["uid"] == raw["uid"]
        if "id.orig_h" in raw and "src_ip" in got:
            assert got["src_ip"] == raw["id.orig_h"]
        if "id.resp_p" in raw and "dst_port" in got:
            assert got["dst_port"] == (int(raw["id.resp_p"]) if raw["id.resp_p"] else None)
        if raw.get("orig_bytes") is not None:
            assert got["bytes_out"] == int(raw["orig_bytes"])
        if raw.get("query") is not None:
            assert got["query"] == raw["query"]
        if raw.get("server_name") is not None:
            assert got["sni"] == raw["server_name"]
        if "label" in raw:
            expected = None if raw["label"] == "(empty)" else raw["label"]
            assert json.loads(got["extra"] or "{}").get("label") == expected
