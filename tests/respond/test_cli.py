"""The respond commands through Typer, with the nft twin in place of the real nft."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import leaktrace.cli.respond_cmds as cmds
from leaktrace.cli.app import app
from leaktrace.respond import BlockError, BlockTarget
from leaktrace.respond.nft_twin import FakeNft
from leaktrace.workspace import Workspace

runner = CliRunner()
INCIDENTS = {"INC-0001": {"id": "INC-0001", "server_ip": "203.0.113.7", "server_domain": "evil.example",
                          "host_ip": "10.1.2.3", "severity": "high"}}


@pytest.fixture
def nft(monkeypatch: pytest.MonkeyPatch) -> FakeNft:
    twin = FakeNft()
    monkeypatch.setattr(cmds, "nft_runner", lambda ws: twin)
    monkeypatch.setattr(cmds, "incident_resolver", lambda ws: cmds.incident_targets(INCIDENTS.get))
    monkeypatch.setenv("LEAKTRACE_USER", "tanaka")
    return twin


def run(*args: str) -> str:
    res = runner.invoke(app, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    assert res.exit_code == 0, res.output
    return res.output


def test_block_list_export_unblock_audit(ws: Workspace, nft: FakeNft, tmp_path: Path) -> None:
    w = str(ws.root)
    out = run("block", "INC-0001", "-w", w, "--expire", "7d", "--reason", "exfil of 20 documents")
    assert "ACT-0001 active: block 203.0.113.7 on nftables, csv" in out
    assert "ACT-0002 active: block evil.example on csv" in out
    assert "203.0.113.7" in nft.elements()
    blocks = json.loads(run("blocks", "-w", w, "--json"))
    assert [(b["id"], b["target"], b["status"], b["incident"]) for b in blocks] == [
        ("ACT-0001", "203.0.113.7", "active", "INC-0001"), ("ACT-0002", "evil.example", "active", "INC-0001")]
    assert blocks[0]["expires"].startswith(blocks[0]["created"][:4]) and blocks[0]["requested_by"] == "tanaka"
    assert "acl leaktrace_block dstdomain .evil.example" in run("export-blocklist", "-w", w, "--format", "squid")
    target = tmp_path / "drop.rules"
    run("export-blocklist", "-w", w, "--format", "suricata", "-o", str(target))
    assert "drop ip any any -> 203.0.113.7 any" in target.read_text()
    assert (ws.state_dir / "exports" / "blocklist.csv").read_text().count("INC-0001") == 2
    assert "ACT-0001 rolled-back" in run("unblock", "ACT-0001", "-w", w, "--reason", "contained")
    assert nft.elements() == {}
    assert "audit log intact: 5 entries" in run("audit", "-w", w, "--verify")
    entries = json.loads(run("audit", "-w", w, "--json"))
    assert [e["event"] for e in entries] == ["request", "block", "request", "block", "unblock"]
    assert entries[-1]["reason"] == "contained" and entries[1]["rule_text"].startswith("[nftables] add element")


def test_block_server_dry_run(ws: Workspace, nft: FakeNft) -> None:
    out = run("block", "-w", str(ws.root), "--server", "203.0.113.9", "--dry-run", "--backend", "nftables,rpz")
    assert "would block ip 203.0.113.9" in out and "[rpz] ; manual" not in out
    assert "32.9.113.0.203.rpz-ip CNAME ." in out
    assert nft.scripts == []


def test_block_refuses_internal_with_clear_error(ws: Workspace, nft: FakeNft) -> None:
    with pytest.raises(BlockError, match="refused: 10.1.2.3 is an internal address"):
        run("block", "-w", str(ws.root), "--server", "10.1.2.3")
    with pytest.raises(BlockError, match="either an incident id or --server"):
        run("block", "-w", str(ws.root))


def test_isolate_prints_script(ws: Workspace, nft: FakeNft) -> None:
    out = run("isolate", "INC-0001", "-w", str(ws.root), "--format", "windows")
    assert "ACT-0001 active: isolate 10.1.2.3 (windows)" in out
    assert "New-NetFirewallRule" in out and "-Action Block" in out
    released = run("unblock", "ACT-0001", "-w", str(ws.root))
    assert "Remove-NetFirewallRule" in released


def test_approve_flow_via_cli(ws: Workspace, nft: FakeNft, monkeypatch: pytest.MonkeyPatch) -> None:
    from leaktrace.respond.settings import RespondConfig

    settings = RespondConfig(mode="approve", backends=["nftables"])
    real = cmds.Responder.for_workspace
    monkeypatch.setattr(cmds.Responder, "for_workspace",
                        lambda ws, **kw: real(ws, **{**kw, "settings": settings}))
    out = run("block", "-w", str(ws.root), "--server", "203.0.113.7")
    assert "pending-approval" in out and "--approve ACT-0001" in out and nft.elements() == {}
    out = run("block", "-w", str(ws.root), "--approve", "ACT-0001", "--user", "chief")
    assert "approved by chief" in out and "203.0.113.7" in nft.elements()


def test_target_from_incident_row_like_objects() -> None:
    class Row:
        id = "INC-0009"
        server_ip = "203.0.113.7"
        server_domain = None
        host_ip = "10.1.2.3"
        severity = "critical"

    assert cmds.incident_targets(lambda i: Row())("INC-0009") == BlockTarget(
        server_ip="203.0.113.7", host_ip="10.1.2.3", incident_id="INC-0009", severity="critical")


def test_audit_verify_fails_on_tampering(ws: Workspace, nft: FakeNft) -> None:
    import sqlite3

    run("block", "-w", str(ws.root), "--server", "203.0.113.7")
    con = sqlite3.connect(ws.state_dir / "leaktrace.db")
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET reason = 'edited' WHERE id = 1")
    con.commit()
    con.close()
    res = runner.invoke(app, ["audit", "-w", str(ws.root), "--verify"])
    assert res.exit_code == 1 and "entry 1 was modified" in res.output


def test_blocks_check_reports_missing(ws: Workspace, nft: FakeNft) -> None:
    run("block", "-w", str(ws.root), "--server", "203.0.113.7")
    nft.sets.clear()
    res = runner.invoke(app, ["blocks", "-w", str(ws.root), "--check"])
    assert res.exit_code == 1 and "missing from nftables" in res.output
    assert "reapplied" in run("blocks", "-w", str(ws.root), "--reapply")
    assert "203.0.113.7" in nft.elements()
