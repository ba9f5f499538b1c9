"""End to end on the OTRF LSASS campaigns: the host's credential dumping joins the incident of its C2, and in
campaign 03 the LSASS dump file is the object taken over that channel (SOURCES.md: `download
C:\\Windows\\Temp\\lsass-comsvcs.dmp` over the Meterpreter session)."""

from __future__ import annotations

import pytest

from leaktrace import ingest
from leaktrace.cli.investigate_cmds import investigate_incident
from leaktrace.incidents.analyze import analyze
from leaktrace.workspace import Workspace
from tests.conftest import shared_data

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize(("case", "victim"), [("LSASS_campaign_01", "192.168.1.41"),
                                               ("LSASS_campaign_03", "192.168.1.42")])
def test_credential_dumping_joins_the_c2_incident(tmp_path, case: str, victim: str) -> None:  # type: ignore[no-untyped-def]
    folder = shared_data() / "otrf-lsass-campaigns" / case
    if not folder.exists():
        pytest.skip(f"{folder} not found")
    # the lab's attacker 10.0.5.13 is RFC 1918 but plays the external role: only the victims' subnet is internal
    ws = Workspace.init(tmp_path / "ws", internal=["192.168.1.0/24"])
    ingest.ingest_paths(ws, [folder])
    incidents = analyze(ws).incidents
    top = incidents[0]
    assert (top.host_ip, top.server_ip) == (victim, "10.0.5.13")
    assert "credential-dumping" in top.kinds and top.severity == "critical"
    assert {"payload-download", "sigma", "user-execution"} <= set(top.kinds)
    # no host-only incident for the same behaviour: it joined the C2's incident
    assert all(i.server_ip or i.server_domain for i in incidents if i.host_ip == victim)
    result = investigate_incident(ws, top.id)
    assert any("clock +7.00 h" in n or "clock +19.00 h" in n for n in result.notes)
    assert result.remote_control.verdict == "remote-controlled"
    dumps = [o for o in result.objects if o.kind == "credential-dump"]
    if case == "LSASS_campaign_01":
        assert dumps == []  # credentials read in memory (kiwi): nothing to attribute as a file
        return
    (dump,) = dumps
    assert dump.path.lower() == r"c:\windows\temp\lsass-comsvcs.dmp" and dump.confidence >= 0.5
    assert {e.kind for e in dump.evidence} >= {"written-by-actor", "channel-active-after-write"}
    assert "credential-dump" in result.rollup.sentence
    # written at host 09:00:18 = sensor 16:00:18, inside the C2 session (15:57-16:02 UTC)
    assert dump.first_read is not None and dump.first_read.strftime("%H:%M") == "16:00"
