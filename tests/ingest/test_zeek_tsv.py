"""Zeek TSV ingest on generated logs: formats, quarantine with line numbers, idempotence."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

from leaktrace.engine import Engine
from leaktrace.ingest import ingest_paths
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace
from tests.zeekgen import CONN_FIELDS, CONN_TYPES, conn_log, conn_row, header


def engine(ws: Workspace) -> Engine:
    return Engine.for_lake(Lake(ws.lake_dir))


def test_conn_rows_are_normalised(ws: Workspace, tmp_path: Path) -> None:
    p = tmp_path / "conn.log"
    p.write_text(conn_log(50))
    summary = ingest_paths(ws, [p])
    assert summary.rows == {"conn": 50}
    rows = engine(ws).table("conn").order_by("source_line").to_pyarrow().to_pylist()
    first = rows[0]
    assert first["uid"] == "C00000000"
    assert first["src_ip"] == "10.1.0.5" and first["dst_port"] == 443
    assert first["bytes_out"] == 1000 and first["bytes_in"] == 5000
    assert first["local_orig"] is True and first["local_resp"] is False
    assert first["ts"].timestamp() == 1_700_000_000.0
    assert first["source_line"] == 9  # 8 header lines
    assert rows[-1]["source_line"] == 58
    assert first["tenant"] == "default" and first["source_format"] == "zeek-tsv"


def test_reingest_adds_nothing(ws: Workspace, tmp_path: Path) -> None:
    p = tmp_path / "conn.log"
    p.write_text(conn_log(30))
    ingest_paths(ws, [p])
    again = ingest_paths(ws, [p])
    assert again.rows == {} and again.count("already-ingested") == 1
    copy = tmp_path / "renamed.log"
    copy.write_bytes(p.read_bytes())
    assert ingest_paths(ws, [copy]).rows == {}
    assert engine(ws).count("conn") == 30


def test_garbage_lines_are_quarantined_with_their_numbers(ws: Workspace, tmp_path: Path) -> None:
    lines = conn_log(40).splitlines()
    # insert bad lines at known places (1-based line numbers in the final file)
    bad = {
        12: "garbage that is not a log line",
        20: "",
        25: conn_row(999).replace("\t443\t", "\tnot-a-port\t"),
        33: "\t".join(["x"] * 30),
        41: conn_row(998).replace("1.250000", "soon"),
    }
    for line_no in sorted(bad):
        lines.insert(line_no - 1, bad[line_no])
    p = tmp_path / "conn.log"
    p.write_text("\n".join(lines) + "\n")
    summary = ingest_paths(ws, [p])
    outcome = summary.sources[0]
    assert summary.rows == {"conn": 40}
    assert outcome.quarantined == len(bad)
    assert sorted(ln for ln, _ in outcome.bad_lines) == sorted(bad)
    reasons = dict(outcome.bad_lines)
    assert "id.resp_p" in reasons[25] and "duration" in reasons[41]
    assert reasons[20] == "empty line"
    eng = engine(ws)
    uids = sorted(eng.table("conn").uid.to_pyarrow().to_pylist())
    assert uids == [f"C{i:08d}" for i in range(40)]
    # every good row keeps the line it came from
    text_lines = p.read_text().split("\n")
    for row in eng.table("conn").to_pyarrow().to_pylist():
        assert text_lines[row["source_line"] - 1].split("\t")[1] == row["uid"]
    q = eng.table("quarantine").to_pyarrow().to_pylist()
    assert sorted(r["source_line"] for r in q) == sorted(bad)
    assert all(r["source_file"] == str(p) for r in q)


def test_concatenated_files_with_different_fields(ws: Workspace, tmp_path: Path) -> None:
    part1 = conn_log(10)
    fields = CONN_FIELDS[:6] + ["label"] + CONN_FIELDS[6:12]
    types = CONN_TYPES[:6] + ["string"] + CONN_TYPES[6:12]
    rows = []
    for i in range(10, 15):
        r = conn_row(i).split("\t")
        rows.append("\t".join(r[:6] + ["Malicious"] + r[6:12]))
    part2 = header("conn", fields, types) + "\n".join(rows) + "\n"
    p = tmp_path / "conn.log"
    p.write_text(part1 + part2)
    assert ingest_paths(ws, [p]).rows == {"conn": 15}
    t = engine(ws).table("conn").order_by("uid").to_pyarrow().to_pylist()
    assert json.loads(t[12]["extra"]) == {"label": "Malicious"}
    assert t[12]["missed_bytes"] is None  # a field the second header does not have
    # part 1: 8 header lines, 10 rows, #close (lines 1-19); part 2: 8 header lines; C00000012 is its 3rd row
    assert t[12]["source_line"] == 19 + 8 + 3
    assert t[0]["extra"] is None


def test_unset_and_empty_fields(ws: Workspace, tmp_path: Path) -> None:
    r = conn_row(1).split("\t")
    r[7] = "-"  # service unset
    r[9] = "-"  # orig_bytes unset
    r[15] = "(empty)"  # history empty
    p = tmp_path / "conn.log"
    p.write_text(header("conn", CONN_FIELDS, CONN_TYPES) + "\t".join(r) + "\n")
    ingest_paths(ws, [p])
    row = engine(ws).table("conn").to_pyarrow().to_pylist()[0]
    assert row["app"] is None and row["bytes_out"] is None and row["history"] == ""


def test_gz_and_zip_archives(ws: Workspace, tmp_path: Path) -> None:
    gz = tmp_path / "conn.00:00:00-01:00:00.log.gz"
    gz.write_bytes(gzip.compress(conn_log(7).encode()))
    zp = tmp_path / "logs.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("day/conn.log", conn_log(5, start=100))
        z.writestr("day/notes.txt", "not a log")
    summary = ingest_paths(ws, [gz, zp])
    assert summary.rows == {"conn": 12}
    assert {s.status for s in summary.sources} == {"ingested", "unknown-format"}
    names = {s.name for s in summary.sources}
    assert f"{zp}!/day/conn.log" in names


def test_json_lines_give_the_same_rows_as_tsv(tmp_path: Path) -> None:
    tsv_ws = Workspace.init(tmp_path / "a")
    json_ws = Workspace.init(tmp_path / "b")
    tsv = tmp_path / "conn.log"
    tsv.write_text(conn_log(20))
    objs = []
    for i in range(20):
        vals = conn_row(i).split("\t")
        o: dict[str, object] = {}
        for f, t, v in zip(CONN_FIELDS, CONN_TYPES, vals, strict=True):
            if v == "(empty)":
                o[f] = []
            elif t in ("count", "port"):
                o[f] = int(v)
            elif t in ("time", "interval"):
                o[f] = float(v)
            elif t == "bool":
                o[f] = v == "T"
            else:
                o[f] = v
        objs.append(json.dumps(o))
    js = tmp_path / "conn.json"
    js.write_text("\n".join(objs) + "\nnot json at all\n")
    ingest_paths(tsv_ws, [tsv])
    summary = ingest_paths(json_ws, [js])
    assert summary.sources[0].format == "zeek-json"
    assert summary.sources[0].bad_lines == [(21, summary.sources[0].bad_lines[0][1])]
    drop = ["source_format", "source_file", "source_line", "extra"]
    a = engine(tsv_ws).table("conn").order_by("uid").drop(*drop).to_pyarrow().to_pylist()
    b = engine(json_ws).table("conn").order_by("uid").drop(*drop).to_pyarrow().to_pylist()
    assert a == b


def test_rows_are_partitioned_by_tenant_and_day(ws: Workspace, tmp_path: Path) -> None:
    p = tmp_path / "conn.log"
    p.write_text(conn_log(3, ts0=1_700_000_000.0 - 1.5))  # crosses midnight? no: choose explicit day split
    p2 = tmp_path / "conn2.log"
    p2.write_text(conn_log(3, ts0=1_700_086_400.0))  # next day
    ingest_paths(ws, [p, p2], tenant="ministry-a")
    files = Lake(ws.lake_dir).files("conn", tenant="ministry-a")
    days = sorted({f.parent.name for f in files})
    assert days == ["day=2023-11-14", "day=2023-11-15"]
    assert all("tenant=ministry-a" in str(f) for f in files)
