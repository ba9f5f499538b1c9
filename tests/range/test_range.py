"""The range test: real traffic in network namespaces created (and always removed) by the test.

A compromised PC fetches documents from a file server, beacons to an external HTTPS server, then uploads the
documents there in pieces; ``leaktrace watch`` on the gateway's WAN interface detects it and blocks the
server with nftables automatically, cutting the upload. Thresholds are leaktrace's defaults; the workspace only
sets the internal network and the response policy (``mode = "auto"``, ``auto_min_severity = "high"``: a beacon
alone stays a suggestion, beaconing plus exfiltration to the same new, rare server is blocked).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .scenario import Outcome, Params, blocked, make_workspace, run_scenario
from .topology import Range, network_range, unavailable_reason

_WHY = unavailable_reason()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(_WHY is not None, reason=_WHY or "")]


@pytest.fixture(scope="module")
def attack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Range, Path, Outcome]]:
    work = tmp_path_factory.mktemp("range")
    with network_range(work / "net") as r:
        ws = make_workspace(r, work / "ws")
        out = run_scenario(r, ws, Params())
        print(json.dumps({"total": out.total, "received": out.received, "time_to_block_s": out.time_to_block}))
        yield r, ws, out


def test_incident_names_the_pc_and_the_server(attack: tuple[Range, Path, Outcome]) -> None:
    from leaktrace.incidents import Store

    r, ws, out = attack
    incidents = Store.for_state_dir(ws / "state").incidents()
    assert incidents, out.watch_log
    inc = max(incidents, key=lambda i: i.score)
    assert inc.host_ip == r.pc_ip
    assert inc.server_ip == r.ext_ip
    assert "exfiltration" in inc.kinds and "beaconing" in inc.kinds
    assert inc.severity in ("high", "critical")
    assert not any(i.host_ip in r.office_ips for i in incidents), "office users of the business server flagged"
    assert f"{r.pc_ip} → " in out.watch_log and "policy: block" in out.watch_log


def test_upload_was_cut_before_it_completed(attack: tuple[Range, Path, Outcome]) -> None:
    _, _, out = attack
    assert out.first_byte_at is not None, out.implant
    assert 0 < out.received < out.total, f"server received {out.received} of {out.total} bytes"
    assert out.time_to_block is not None and out.time_to_block < 10, out.watch_log


def test_block_rule_is_in_nftables_and_the_audit_log(attack: tuple[Range, Path, Outcome]) -> None:
    from leaktrace.respond import Responder
    from leaktrace.workspace import Workspace

    r, ws, _ = attack
    assert blocked(r, r.ext_ip)
    assert not r.can_connect(r.ext_ip, 443)
    responder = Responder.for_workspace(Workspace.open(ws))
    entries = [e for e in responder.store.audit_entries() if e.target == r.ext_ip]
    applied = [e for e in entries if e.event in ("block", "approve")]
    assert applied and "blocked_v4" in applied[-1].rule_text and applied[-1].actor == "leaktrace"
    assert applied[-1].incident_id
    assert responder.store.verify_audit().ok


def test_unblock_restores_connectivity(attack: tuple[Range, Path, Outcome]) -> None:
    from leaktrace.respond import Responder
    from leaktrace.workspace import Workspace

    r, ws, _ = attack
    responder = Responder.for_workspace(Workspace.open(ws))
    responder.unblock(server=r.ext_ip, user="range-test", reason="test: restore")
    assert not blocked(r, r.ext_ip)
    assert r.can_connect(r.ext_ip, 443)
    assert any(e.event == "unblock" and e.actor == "range-test" for e in responder.store.audit_entries())
