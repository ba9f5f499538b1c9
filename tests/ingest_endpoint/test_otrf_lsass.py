"""OTRF LSASS campaigns 01 and 03: the host events ingest (counts checked against the raw JSON), the host
clock offset against Zeek is estimated from the data, and campaign 03's LSASS dump file is a file event."""

from __future__ import annotations

import json
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import leaktrace.ingest.endpoint  # noqa: F401  (registration)
from leaktrace.clock import ClockOffset, apply_offsets, estimate_offsets, estimate_record_time_offsets
from leaktrace.engine import Engine
from leaktrace.ingest import ingest_paths
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace
from tests.conftest import shared_data

pytestmark = pytest.mark.realdata

CAMPAIGNS = {
    # campaign: (events zip stem, host, expected offset hours (SOURCES.md: host clock = Zeek - N h))
    "LSASS_campaign_01": ("metasploit_logonpasswords_lsass_memory_dump", "MKT01.pandalab.com", 19.0),
    "LSASS_campaign_03": ("metasploit_comsvcs_lsass_memory_dump", "PRD01.pandalab.com", 7.0),
}
SYSMON = "Microsoft-Windows-Sysmon/Operational"


@dataclass
class Ingested:
    ws: Workspace
    engine: Engine
    raw_counts: Counter[tuple[str, int]]
    seconds: float
    events_bytes: int
    rows: dict[str, int]


def _raw_counts(zip_path: Path) -> tuple[Counter[tuple[str, int]], int]:
    """(channel, event id) counts read straight from the zipped JSON lines, independently of leaktrace."""
    counts: Counter[tuple[str, int]] = Counter()
    size = 0
    with zipfile.ZipFile(zip_path) as z:
        (member,) = [i for i in z.infolist() if i.filename.endswith(".json")]
        size = member.file_size
        with z.open(member) as f:
            for line in f:
                if line.strip():
                    obj = json.loads(line)
                    counts[(obj["Channel"], int(obj["EventID"]))] += 1
    return counts, size


@pytest.fixture(scope="module", params=sorted(CAMPAIGNS))
def campaign(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Ingested]:
    name = request.param
    stem, _, _ = CAMPAIGNS[name]
    folder = shared_data() / "otrf-lsass-campaigns" / name
    events_zip, zeek_zip = folder / f"{stem}.zip", folder / f"{stem}_zeek_logs.zip"
    if not events_zip.exists() or not zeek_zip.exists():
        pytest.skip(f"{name} archives not found in {folder}")
    ws = Workspace.init(tmp_path_factory.mktemp(name) / "ws", internal=["192.168.0.0/16"])
    started = time.perf_counter()
    summary = ingest_paths(ws, [events_zip])
    seconds = time.perf_counter() - started
    assert [s.status for s in summary.sources] == ["ingested"], [(s.name, s.error) for s in summary.sources]
    assert summary.sources[0].format == "windows-json"
    assert summary.quarantined == 0
    zeek = ingest_paths(ws, [zeek_zip])
    assert all(s.status == "ingested" for s in zeek.sources)
    raw, size = _raw_counts(events_zip)
    return name, Ingested(ws, Engine.for_lake(Lake(ws.lake_dir)), raw, seconds, size, summary.rows)


def _count(engine: Engine, table: str, **where: object) -> int:
    t = engine.table(table)
    for col, value in where.items():
        t = t.filter(t[col] == value)
    return int(t.count().execute())


def test_events_ingest_with_the_counts_of_the_raw_json(campaign: tuple[str, Ingested]) -> None:
    name, c = campaign
    raw, eng = c.raw_counts, c.engine
    sysmon1 = raw[(SYSMON, 1)]
    assert sysmon1 > 100
    # every Sysmon 1 and Security 4688 is one process start; Sysmon 5 / 4689 one end
    starts = eng.table("process").filter(eng.table("process").event == "start")
    by_id = Counter(json.loads(e)["event_id"] for e in starts.extra.execute())
    assert by_id == Counter({1: sysmon1, 4688: raw[("Security", 4688)]})
    assert _count(eng, "process", event="end") == raw[(SYSMON, 5)] + raw[("Security", 4689)]
    assert _count(eng, "endpoint_conn") == raw[(SYSMON, 3)] + raw[("Security", 5156)]
    assert _count(eng, "dns") == raw[(SYSMON, 22)] + _zeek_dns(c)
    # nothing lost: every event is in exactly one of the event tables (file events: minus inferred ones)
    files = eng.table("file_event").to_pyarrow()
    native_files = sum(1 for e in files.column("extra").to_pylist() if "inferred_from" not in e)
    # (a 4624 logon also gives an assets row, a Sysmon 3 the host's address once: not counted here)
    assessed = c.rows["process"] + c.rows["endpoint_conn"] + c.rows["dns"] + native_files + c.rows["win_event"]
    assert assessed == sum(raw.values())
    rate = sum(raw.values()) / c.seconds
    print(f"{name}: {sum(raw.values())} events, {c.events_bytes / 1e6:.0f} MB in {c.seconds:.2f} s "
          f"({rate:,.0f} events/s, {c.events_bytes / 1e6 / c.seconds:.0f} MB/s)")


def _zeek_dns(c: Ingested) -> int:
    t = c.engine.table("dns")
    return int(t.filter(t.source_format != "windows-json").count().execute())


def test_clock_offset_is_estimated_from_the_data(campaign: tuple[str, Ingested]) -> None:
    name, c = campaign
    _, host, hours = CAMPAIGNS[name]
    ec = c.engine.table("endpoint_conn").to_pyarrow()
    conn = c.engine.table("conn").to_pyarrow()
    offsets = {o.host: o for o in estimate_offsets(ec, conn)}
    est = offsets[host]
    print(est.describe())
    assert est.offset_seconds == pytest.approx(hours * 3600, abs=120)
    assert est.matches >= 10 and est.confidence >= 0.5 and est.spread < 60
    # the record times are local time written as UTC: Sysmon's own UtcTime says the same, without the network
    (rec,) = estimate_record_time_offsets(c.engine.table("process").to_pyarrow())
    assert rec.host == host and rec.offset_seconds == pytest.approx(hours * 3600, abs=1)
    # once corrected, the host's connections to the C2 fall inside Zeek's view of them
    fixed = apply_offsets(ec, [est])
    c2 = fixed.filter(pc.equal(fixed["dst_ip"], "10.0.5.13"))
    zeek_c2 = conn.filter(pc.equal(conn["dst_ip"], "10.0.5.13"))
    assert c2.num_rows > 0
    lo, hi = pc.min(zeek_c2["ts"]).as_py(), pc.max(zeek_c2["ts"]).as_py()
    first = pc.min(c2["ts"]).as_py()
    assert lo.timestamp() - 120 <= first.timestamp() <= hi.timestamp() + 120


def test_dump_file_is_a_file_event_in_campaign_03_only(campaign: tuple[str, Ingested]) -> None:
    name, c = campaign
    files = c.engine.table("file_event").to_pyarrow()
    if name != "LSASS_campaign_03":
        # campaign 01 reads credentials in memory (kiwi): no dump file may appear
        assert not any(p.lower().endswith(".dmp") for p in files.column("path").to_pylist() if p)
        return
    dump = files.filter(pc.equal(pc.utf8_lower(files["path"]), "c:\\windows\\temp\\lsass-comsvcs.dmp"))
    assert dump.num_rows >= 1
    row = dump.to_pylist()[0]
    assert row["action"] == "create"
    assert row["image"].lower().endswith("\\rundll32.exe")
    assert row["host"] == "PRD01.pandalab.com"
    extra = json.loads(row["extra"])
    assert extra["inferred_from"] == "command_line" and extra["rule"] == "comsvcs-minidump"
    # host time 2023-08-18T09:00:03Z (SOURCES.md); + the estimated offset it is Zeek time ~16:00 UTC
    offsets = estimate_offsets(c.engine.table("endpoint_conn").to_pyarrow(), c.engine.table("conn").to_pyarrow())
    fixed = apply_offsets(pa.Table.from_pylist([row], schema=dump.schema), offsets)
    assert fixed.column("ts")[0].as_py().strftime("%Y-%m-%d %H:%M") == "2023-08-18 16:00"
    assert isinstance(offsets[0], ClockOffset)
