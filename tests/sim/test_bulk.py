from __future__ import annotations

from pathlib import Path

from leaktrace.sim.bulk import write_conn_log
from leaktrace.sim.zeek_writer import FIELDS


def test_bulk_writes_exactly_n_valid_rows(tmp_path: Path) -> None:
    path = tmp_path / "conn.log"
    assert write_conn_log(path, 12_345, seed=3, hosts=200) == 12_345
    lines = path.read_text().splitlines()
    data = [line for line in lines if not line.startswith("#")]
    assert len(data) == 12_345
    assert lines[-1].startswith("#close")
    n = len(FIELDS["conn"])
    assert all(len(line.split("\t")) == n for line in data)
    ts = [float(line.split("\t", 1)[0]) for line in data]
    assert ts == sorted(ts)


def test_bulk_zero_rows_and_determinism(tmp_path: Path) -> None:
    assert write_conn_log(tmp_path / "empty.log", 0) == 0
    assert [x for x in (tmp_path / "empty.log").read_text().splitlines() if not x.startswith("#")] == []
    write_conn_log(tmp_path / "a.log", 5000, seed=7, hosts=50)
    write_conn_log(tmp_path / "b.log", 5000, seed=7, hosts=50)
    assert (tmp_path / "a.log").read_bytes() == (tmp_path / "b.log").read_bytes()
