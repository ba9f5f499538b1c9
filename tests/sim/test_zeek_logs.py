"""The Zeek logs are valid TSV with standard headers, and deterministic per seed."""

from __future__ import annotations

from pathlib import Path

from leaktrace.sim import SimulationResult
from leaktrace.sim.zeek_writer import FIELDS
from tests.sim.conftest import run_small

LOGS = ("conn", "dns", "http", "ssl", "files", "smtp", "dhcp")


def read_log(path: Path) -> tuple[dict[str, str], list[str], list[list[str]]]:
    meta: dict[str, str] = {}
    fields: list[str] = []
    rows: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            key, _, value = (
                line[1:].partition("\t") if not line.startswith("#separator") else ("separator", "", line)
            )
            meta[key] = value
            if key == "fields":
                fields = value.split("\t")
        else:
            rows.append(line.split("\t"))
    return meta, fields, rows


def day_dir(result: SimulationResult) -> Path:
    return result.out / "zeek" / "2026-03-02"


def test_every_log_has_standard_header_and_consistent_rows(small_sim: SimulationResult) -> None:
    for name in LOGS:
        path = day_dir(small_sim) / f"{name}.log"
        text = path.read_text(encoding="utf-8")
        assert text.startswith(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        )
        meta, fields, rows = read_log(path)
        assert meta["path"] == name
        assert fields == [f for f, _ in FIELDS[name]]
        assert len(meta["types"].split("\t")) == len(fields)
        assert "open" in meta and "close" in meta
        assert text.rstrip("\n").splitlines()[-1].startswith("#close\t")
        assert rows, name
        bad = [i for i, r in enumerate(rows) if len(r) != len(fields) or "" in r]
        assert not bad, f"{name}: malformed rows {bad[:5]}"


def test_conn_is_time_ordered_and_numeric(small_sim: SimulationResult) -> None:
    _, fields, rows = read_log(day_dir(small_sim) / "conn.log")
    ts = [float(r[0]) for r in rows]
    assert ts == sorted(ts)
    ob = fields.index("orig_bytes")
    assert all(r[ob] == "-" or r[ob].isdigit() for r in rows)
    services = {r[fields.index("service")] for r in rows}
    assert {"ssl", "dns", "http", "gssapi,smb,krb", "smtp", "dhcp"} <= services


def test_dns_precedes_connections(small_sim: SimulationResult) -> None:
    _, fields, rows = read_log(day_dir(small_sim) / "dns.log")
    q = fields.index("query")
    assert {"download.windowsupdate.com"} & {r[q] for r in rows} or len(rows) > 50


def test_same_seed_same_bytes_different_seed_differs(small_sim: SimulationResult, tmp_path: Path) -> None:
    again = run_small(tmp_path / "again", seed=1)
    other = run_small(tmp_path / "other", seed=2)
    for rel in ("zeek/2026-03-02/conn.log", "ground_truth.json", "zeek/2026-03-02/smtp.log"):
        assert (again.out / rel).read_bytes() == (small_sim.out / rel).read_bytes(), rel
    assert (other.out / "zeek/2026-03-02/conn.log").read_bytes() != (
        small_sim.out / "zeek/2026-03-02/conn.log"
    ).read_bytes()
    assert (other.out / "ground_truth.json").read_bytes() != (
        small_sim.out / "ground_truth.json"
    ).read_bytes()
