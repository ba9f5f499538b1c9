"""Real data from ../shared/data (see SOURCES.md there): C2 pairs must become incidents, the benign day must not."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import SHARED_DATA

from leaktrace.incidents import analyze
from leaktrace.workspace import Workspace

DATA = SHARED_DATA
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not DATA.exists(), reason=f"shared data folder {DATA} is absent"),
]
ingest = pytest.importorskip("leaktrace.ingest", reason="Zeek ingest (leaktrace.ingest) not installed")
ORDER = ["low", "medium", "high", "critical"]


def _analyse(tmp_path: Path, folder: str, internal: list[str]) -> list:
    ws = Workspace.init(tmp_path / "ws", internal=internal)
    ingest.ingest_paths(ws, [DATA / folder])
    return analyze(ws).incidents


def test_remcos_reconnect_beaconing_is_an_incident(tmp_path: Path) -> None:
    incidents = _analyse(tmp_path, "stratosphere-ctu-sme-11-remcos", ["192.168.0.0/16"])
    pair = [i for i in incidents if i.host_ip == "192.168.1.107" and i.server_ip == "66.63.168.35"]
    assert pair, [(i.host_ip, i.server_ip) for i in incidents]
    assert "beaconing" in pair[0].kinds
    assert pair[0] is incidents[0]  # the top incident


def test_ctu_normal_44_has_no_incident_above_low(tmp_path: Path) -> None:
    # the capture's own network: the workstation is internal, the rest of the university is too
    incidents = _analyse(tmp_path, "stratosphere-ctu-normal-44-day2", ["147.32.0.0/16"])
    above = [
        (i.id, i.server_ip, i.server_domain, i.severity, i.kinds) for i in incidents if i.severity != "low"
    ]
    assert above == []


@pytest.mark.parametrize(
    ("case", "victim"), [("LSASS_campaign_01", "192.168.1.41"), ("LSASS_campaign_03", "192.168.1.42")]
)
def test_lsass_campaign_c2_is_an_incident(tmp_path: Path, case: str, victim: str) -> None:
    # the lab's attacker 10.0.5.13 is RFC 1918 but plays the external role (SOURCES.md): only the victims'
    # subnet is internal
    ws = Workspace.init(tmp_path / "ws", internal=["192.168.1.0/24"])
    ingest.ingest_paths(ws, [DATA / "otrf-lsass-campaigns" / case])
    incidents = analyze(ws).incidents
    assert [(i.host_ip, i.server_ip) for i in incidents][:1] == [(victim, "10.0.5.13")]
    assert "payload-download" in incidents[0].kinds
