"""Host detectors on the OTRF LSASS campaigns: Sigma over the lake matches Sigma over the raw events, the
credential dumping is found on the right host at the sensor's time, and campaign 01 has no dump file."""

from __future__ import annotations

import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

import leaktrace.ingest.endpoint  # noqa: F401  (registration)
from leaktrace.detect.base import Context
from leaktrace.engine import Engine
from leaktrace.hostdetect.detectors import detectors, endpoint_view
from leaktrace.hostdetect.lake_events import lake_events
from leaktrace.ingest import ingest_paths
from leaktrace.lake import Lake
from leaktrace.sigma.engine import SigmaEngine
from leaktrace.sigma.events import read_json_events
from leaktrace.workspace import Workspace
from tests.conftest import shared_data

pytestmark = pytest.mark.realdata

CAMPAIGNS = {
    "LSASS_campaign_01": ("metasploit_logonpasswords_lsass_memory_dump", "192.168.1.41"),
    "LSASS_campaign_03": ("metasploit_comsvcs_lsass_memory_dump", "192.168.1.42"),
}


@pytest.fixture(scope="module", params=sorted(CAMPAIGNS))
def campaign(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Context]:
    name = request.param
    stem, _ = CAMPAIGNS[name]
    folder = shared_data() / "otrf-lsass-campaigns" / name
    events, zeek = folder / f"{stem}.zip", folder / f"{stem}_zeek_logs.zip"
    if not events.exists() or not zeek.exists():
        pytest.skip(f"{name} archives not found in {folder}")
    ws = Workspace.init(tmp_path_factory.mktemp(name) / "ws", internal=["192.168.0.0/16"])
    ingest_paths(ws, [events, zeek])
    ctx = Context(engine=Engine.for_lake(Lake(ws.lake_dir)), internal=["192.168.0.0/16"])
    return name, events, ctx


def test_sigma_over_the_lake_matches_sigma_over_the_raw_events(campaign: tuple[str, Path, Context],
                                                                tmp_path: Path) -> None:
    _, events_zip, ctx = campaign
    with zipfile.ZipFile(events_zip) as z:
        (member,) = [i for i in z.infolist() if i.filename.endswith(".json")]
        z.extract(member, tmp_path)
    engine = SigmaEngine.builtin()
    raw = Counter(m.rule_id for m in engine.evaluate(read_json_events(tmp_path / member.filename), flatten=True,
                                                     explain=False))
    view = endpoint_view(ctx)
    rebuilt = [ev for ev, _ in lake_events({"process": view.process, "file_event": view.file_event,
                                            "endpoint_conn": view.endpoint_conn, "win_event": view.win_event})]
    lake = Counter(m.rule_id for m in engine.evaluate(rebuilt, explain=False))
    assert sum(raw.values()) >= 5
    assert lake == raw


def test_credential_dumping_on_the_victim_at_sensor_time(campaign: tuple[str, Path, Context]) -> None:
    name, _, ctx = campaign
    _, victim = CAMPAIGNS[name]
    found = detectors.get("credential_dumping")().run(ctx)
    assert found and {f.src_ip for f in found} == {victim}
    assert all(f.kind == "credential-dumping" for f in found)
    # the implant's own LSASS reads are tied to its C2 through the process tree (SOURCES.md: 10.0.5.13)
    implant = [f for f in found if "winx64_payload.exe" in f.summary]
    assert implant and all(f.dst_ip == "10.0.5.13" for f in implant)
    dumps = [f for f in found if f.evidence.get("path")]
    if name == "LSASS_campaign_01":
        assert dumps == []  # kiwi reads LSASS in memory: LSASS access, no dump file
        assert any("read LSASS memory" in f.summary for f in found)
        return
    (dump,) = dumps
    assert dump.evidence["path"].lower() == r"c:\windows\temp\lsass-comsvcs.dmp" and dump.severity == "critical"
    assert dump.dst_ip == "10.0.5.13"  # rundll32 ← cmd ← the implant, which talks to the C2
    # host time 09:00:18 + the estimated offset (+7 h) = inside Zeek's view of the C2 (15:57-16:02 UTC)
    assert datetime(2023, 8, 18, 15, 57, tzinfo=UTC) <= dump.first_ts <= datetime(2023, 8, 18, 16, 2, tzinfo=UTC)
    assert dump.evidence["clock_offset_s"] == pytest.approx(7 * 3600, abs=120)
    sigma = detectors.get("sigma")().run(ctx)
    titles = {f.evidence["title"] for f in sigma}
    assert "Process Memory Dump Via Comsvcs.DLL" in titles
    assert all(f.src_ip == victim for f in sigma)


def test_payload_run_from_downloads(campaign: tuple[str, Path, Context]) -> None:
    name, _, ctx = campaign
    (hit,) = detectors.get("user_execution")().run(ctx)
    assert hit.evidence["image"].lower().endswith(r"\downloads\winx64_payload.exe")
    assert hit.src_ip == CAMPAIGNS[name][1]
