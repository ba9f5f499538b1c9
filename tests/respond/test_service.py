"""The responder with the nft twin: block, approve, unblock, expiry, policy on incidents, audit chain."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import DatabaseError

from leaktrace.respond import BlockError, BlockTarget
from leaktrace.respond.nft_twin import FakeNft

from .conftest import Clock, MakeResponder

INC = BlockTarget(server_ip="203.0.113.7", server_domain="evil.example", host_ip="10.1.2.3",
                  incident_id="INC-0001", severity="high")


def test_block_incident_on_every_backend(make_responder: MakeResponder, nft: FakeNft, clock: Clock,
                                         tmp_path: Path) -> None:
    r = make_responder()
    out = r.block(INC, expire="7d", reason="exfil to C2", user="tanaka")
    ip, dom = out.actions
    assert (ip.public_id, ip.target, ip.status, ip.backends) == ("ACT-0001", "203.0.113.7", "active",
                                                                 ["nftables", "csv", "rpz"])
    assert (dom.target, dom.backends) == ("evil.example", ["csv", "rpz"])  # nftables cannot block a domain
    assert ip.expires == clock() + r._duration("7d")  # type: ignore[operator]
    assert ip.requested_by == "tanaka" and ip.incident_id == "INC-0001"
    elems = nft.elements()
    assert elems["203.0.113.7"].timeout == 7 * 86400 and elems["203.0.113.7"].comment == "INC-0001 ACT-0001"
    assert "[nftables] add element inet leaktrace blocked_v4 { 203.0.113.7 timeout 7d" in ip.rule_text
    exports = tmp_path / "state" / "exports"
    assert "203.0.113.7,ip,2026-12-03T09:00:00Z,INC-0001,ACT-0001,exfil to C2" in (exports / "blocklist.csv").read_text()
    zone = (exports / "leaktrace.rpz.zone").read_text()
    assert "evil.example CNAME ." in zone and "*.evil.example CNAME ." in zone
    events = [(e.event, e.actor, e.action_id) for e in r.store.audit_entries()]
    assert events == [("request", "tanaka", 1), ("block", "tanaka", 1), ("request", "tanaka", 2),
                      ("block", "tanaka", 2)]


def test_dry_run_changes_nothing(make_responder: MakeResponder, nft: FakeNft) -> None:
    r = make_responder()
    out = r.block(INC, expire="1h", dry_run=True)
    assert [p.rule.value for p in out.planned] == ["203.0.113.7", "evil.example"]
    assert out.planned[0].texts["nftables"].endswith('{ 203.0.113.7 timeout 1h comment "INC-0001" }')
    assert out.planned[1].skipped == {"nftables": "nftables cannot block a domain"}
    assert nft.scripts == [] and r.store.actions() == [] and r.store.audit_entries() == []


def test_refuses_allowlisted_and_internal_and_audits_it(make_responder: MakeResponder, nft: FakeNft) -> None:
    r = make_responder()
    for target in (BlockTarget(server_ip="198.51.100.9"), BlockTarget(server_ip="10.9.9.9"),
                   BlockTarget(server_domain="download.update.microsoft.com")):
        with pytest.raises(BlockError, match="refused"):
            r.block(target, user="sato")
    assert nft.scripts == [] and r.store.actions() == []
    assert [e.event for e in r.store.audit_entries()] == ["refuse"] * 3


def test_domain_only_needs_a_domain_backend(make_responder: MakeResponder) -> None:
    r = make_responder()
    with pytest.raises(BlockError, match="no backend among nftables can block the domain"):
        r.block(BlockTarget(server_domain="evil.example"), backends=["nftables"])


def test_domain_resolved_from_data_reaches_nftables(make_responder: MakeResponder, nft: FakeNft) -> None:
    r = make_responder()
    r.resolver = lambda domain: ["203.0.113.50", "10.0.0.5"]  # the internal answer is never blocked
    out = r.block(BlockTarget(server_domain="evil.example"), expire="1d")
    assert [a.target for a in out.actions] == ["evil.example", "203.0.113.50"]
    assert set(nft.elements()) == {"203.0.113.50"}
    assert any("not blocked" in n and "10.0.0.5" in n for n in out.notes)


def test_unblock_rolls_back_and_records(make_responder: MakeResponder, nft: FakeNft, tmp_path: Path) -> None:
    r = make_responder()
    r.block(INC, expire="7d", user="tanaka")
    (row,) = r.unblock("ACT-0001", user="suzuki", reason="false positive")
    assert row.status == "rolled-back" and row.removed is not None
    assert nft.elements() == {}
    assert "203.0.113.7" not in (tmp_path / "state" / "exports" / "blocklist.csv").read_text()
    last = r.store.audit_entries()[-1]
    assert (last.event, last.actor, last.reason, last.action_id) == ("unblock", "suzuki", "false positive", 1)
    with pytest.raises(BlockError, match="already rolled-back"):
        r.unblock("ACT-0001")
    assert [a.target for a in r.unblock(server="evil.example")] == ["evil.example"]
    with pytest.raises(BlockError, match="no open block"):
        r.unblock(server="evil.example")


def test_expiry_marks_and_removes_from_exports(make_responder: MakeResponder, nft: FakeNft, clock: Clock,
                                               tmp_path: Path) -> None:
    r = make_responder()
    r.block(BlockTarget(server_ip="203.0.113.7"), expire="2h")
    r.block(BlockTarget(server_ip="203.0.113.8"), expire="never")
    clock.advance(hours=1)
    assert r.expire_due() == []
    clock.advance(hours=1, seconds=1)
    assert set(nft.elements()) == {"203.0.113.8"}  # the kernel (twin) already dropped it
    (row,) = r.expire_due()
    assert (row.target, row.status, row.removed) == ("203.0.113.7", "expired", clock())
    assert [a.target for a in r.active()] == ["203.0.113.8"]
    csv = (tmp_path / "state" / "exports" / "blocklist.csv").read_text()
    assert "203.0.113.7" not in csv and "203.0.113.8" in csv
    assert r.store.audit_entries()[-1].event == "expire" and r.store.audit_entries()[-1].actor == "leaktrace"


def test_reblock_renews_expiry(make_responder: MakeResponder, nft: FakeNft, clock: Clock) -> None:
    r = make_responder()
    r.block(BlockTarget(server_ip="203.0.113.7"), expire="1h")
    clock.advance(minutes=30)
    (row,) = r.block(BlockTarget(server_ip="203.0.113.7"), expire="1d").actions
    assert row.public_id == "ACT-0001" and row.expires == clock() + r._duration("1d")  # type: ignore[operator]
    assert nft.elements()["203.0.113.7"].timeout == 86400
    assert r.store.audit_entries()[-1].event == "renew"


def test_approval_flow(make_responder: MakeResponder, nft: FakeNft, clock: Clock) -> None:
    r = make_responder(mode="approve")
    out = r.block(BlockTarget(server_ip="203.0.113.7", incident_id="INC-0002"), expire="1d", user="tanaka")
    (row,) = out.actions
    assert row.status == "pending-approval" and row.expires is None and nft.elements() == {}
    clock.advance(hours=3)
    done = r.approve(row.public_id, user="chief")
    assert (done.status, done.approved_by) == ("active", "chief")
    assert done.expires == clock() + r._duration("1d")  # type: ignore[operator]  # counted from approval
    assert "203.0.113.7" in nft.elements()
    assert [e.event for e in r.store.audit_entries()] == ["request", "approve"]
    with pytest.raises(BlockError, match="only pending"):
        r.approve(row.public_id)


def test_failed_backend_is_recorded(make_responder: MakeResponder, nft: FakeNft) -> None:
    r = make_responder()
    nft.fail_with = "`nft -f -` failed: Operation not permitted"
    (row,) = r.block(BlockTarget(server_ip="203.0.113.7")).actions
    assert row.status == "failed" and "Operation not permitted" in (row.error or "")
    assert r.active() == []
    assert [e.event for e in r.store.audit_entries()] == ["request", "fail"]


@pytest.mark.parametrize(
    ("mode", "severity", "status"),
    [("auto", "critical", "active"), ("auto", "medium", "suggested"), ("approve", "critical", "pending-approval"),
     ("suggest", "critical", "suggested")],
)
def test_respond_follows_policy(make_responder: MakeResponder, nft: FakeNft, mode: str, severity: str,
                                status: str) -> None:
    r = make_responder(mode=mode, backends=["nftables"])
    target = BlockTarget(server_ip="203.0.113.7", incident_id="INC-0003", severity=severity)
    out = r.respond(target)
    assert [a.status for a in out.actions] == [status]
    assert ("203.0.113.7" in nft.elements()) == (status == "active")
    again = r.respond(target)  # a watch loop sees the incident again: nothing new
    assert again.actions == [] and len(r.store.actions()) == 1


def test_respond_refuses_allowlisted(make_responder: MakeResponder, nft: FakeNft) -> None:
    r = make_responder(mode="auto", auto_min_severity="low")
    out = r.respond(BlockTarget(server_ip="198.51.100.7", severity="critical", incident_id="INC-0004"))
    assert out.decision is not None and out.decision.action == "refuse" and out.actions == []
    assert nft.scripts == []
    (entry,) = r.store.audit_entries()
    assert (entry.event, entry.incident_id) == ("refuse", "INC-0004") and "allowlist" in entry.reason


def test_suggested_action_can_be_approved(make_responder: MakeResponder, nft: FakeNft) -> None:
    r = make_responder(mode="suggest", backends=["nftables"])
    (row,) = r.respond(BlockTarget(server_ip="203.0.113.7", severity="high")).actions
    assert r.approve(row.id, user="chief").status == "active"
    assert "203.0.113.7" in nft.elements()


def test_audit_chain_detects_tampering(make_responder: MakeResponder, tmp_path: Path) -> None:
    r = make_responder()
    r.block(INC, expire="7d", reason="exfil", user="tanaka")
    r.unblock("ACT-0001", user="suzuki")
    check = r.store.verify_audit()
    assert check.ok and check.entries == 5
    db = tmp_path / "state" / "leaktrace.db"
    with pytest.raises(DatabaseError, match="append-only"), r.store.engine.begin() as conn:  # refused...
        conn.exec_driver_sql("UPDATE audit SET reason = 'nothing to see' WHERE id = 2")
    con = sqlite3.connect(db)  # ...but someone with the file can drop the trigger: the chain still tells
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET actor = 'someone-else' WHERE id = 2")
    con.commit()
    con.close()
    bad = r.store.verify_audit()
    assert not bad.ok and bad.bad_id == 2 and "modified" in bad.problem


def test_audit_chain_detects_removed_entry(make_responder: MakeResponder, tmp_path: Path) -> None:
    r = make_responder()
    r.block(INC, expire="7d", user="tanaka")
    con = sqlite3.connect(tmp_path / "state" / "leaktrace.db")
    con.execute("DROP TRIGGER audit_no_delete")
    con.execute("DELETE FROM audit WHERE id = 2")
    con.commit()
    con.close()
    bad = r.store.verify_audit()
    assert not bad.ok and bad.bad_id == 3 and "removed" in bad.problem


def test_isolation_is_recorded_and_released(make_responder: MakeResponder, tmp_path: Path) -> None:
    r = make_responder(isolation={"management": ["10.9.9.9"]})
    row, script = r.isolate("10.1.2.3", "nftables", incident_id="INC-0001", user="tanaka")
    assert row is not None and row.kind == "isolate" and row.status == "active"
    assert 'add element inet leaktrace_isolate hosts_v4 { 10.1.2.3 comment "INC-0001" }' in script
    assert (tmp_path / "state" / "exports" / "isolate-10.1.2.3.nft").read_text() == script
    (done,) = r.unblock(row.id, user="tanaka")
    assert done.status == "rolled-back"
    isolated, released = r.store.audit_entries()
    assert (isolated.event, isolated.rule_text) == ("isolate", script)
    assert released.event == "unblock"
    assert "delete element inet leaktrace_isolate hosts_v4 { 10.1.2.3 }" in released.rule_text


def test_reconcile_after_reboot(make_responder: MakeResponder, nft: FakeNft, clock: Clock) -> None:
    r = make_responder(backends=["nftables"])
    r.block(BlockTarget(server_ip="203.0.113.7"), expire="1h")
    assert r.reconcile() == []
    nft.sets.clear()  # the gateway rebooted: the kernel sets are gone
    r._blockers.clear()
    clock.advance(minutes=20)
    assert r.reconcile() == ["ACT-0001 203.0.113.7 is active but missing from nftables"]
    r.reconcile(reapply=True)
    assert nft.elements()["203.0.113.7"].timeout == 40 * 60  # the remaining time, not a fresh hour
    assert r.store.audit_entries()[-1].event == "reapply"
    nft.run(["nft", "-f", "-"], 'add element inet leaktrace blocked_v4 { 192.0.2.99 }\n')
    assert r.reconcile() == ["192.0.2.99 is in nftables but has no active action"]


def test_expiry_survives_a_failing_backend(make_responder: MakeResponder, nft: FakeNft, clock: Clock) -> None:
    r = make_responder(backends=["nftables"])
    r.block(BlockTarget(server_ip="203.0.113.7"), expire="1m")
    clock.advance(minutes=2)
    nft.fail_with = "nft: Operation not permitted"
    (row,) = r.expire_due()
    assert row.status == "expired"
    assert [e.event for e in r.store.audit_entries()][-2:] == ["fail", "expire"]
    nft.fail_with = None
    r.block(BlockTarget(server_ip="203.0.113.8"))
    nft.fail_with = "nft: Operation not permitted"
    with pytest.raises(BlockError, match="not permitted"):  # a manual unblock does report the failure
        r.unblock(server="203.0.113.8")
    assert [a.target for a in r.active()] == ["203.0.113.8"]  # still recorded as active: it still is


def test_incident_with_domain_on_nftables_only_blocks_the_ip(make_responder: MakeResponder, nft: FakeNft) -> None:
    r = make_responder(backends=["nftables"], mode="auto")
    out = r.respond(INC)
    assert [a.target for a in out.actions] == ["203.0.113.7"]
    assert any("cannot" in n or "can block the domain evil.example" in n for n in out.notes)


def test_four_eyes(make_responder: MakeResponder) -> None:
    r = make_responder(mode="approve", approver_must_differ=True, backends=["csv"])
    (row,) = r.block(BlockTarget(server_ip="203.0.113.7"), user="tanaka").actions
    with pytest.raises(BlockError, match="another person"):
        r.approve(row.id, user="tanaka")
    assert r.approve(row.id, user="chief").status == "active"


def test_partial_failure_is_rolled_back(make_responder: MakeResponder, nft: FakeNft) -> None:
    class Broken:
        name, enforcing, filename = "broken", True, "x"

        def supports(self, rule: object) -> bool:
            return True

        def describe(self, rule: object, now: object = None) -> str:
            return "x"

        def apply(self, rule: object, now: object = None) -> object:
            raise BlockError("broken backend")

    r = make_responder(backends=["nftables", "csv"])
    r._blockers["csv"] = Broken()  # type: ignore[assignment]
    (row,) = r.block(BlockTarget(server_ip="203.0.113.7")).actions
    assert row.status == "failed" and row.error == "broken backend"
    assert nft.elements() == {}  # nftables had applied it: taken back


def test_concurrent_writers_keep_one_chain(tmp_path: Path, clock: Clock) -> None:
    import threading

    from leaktrace.respond.store import ActionStore

    stores = [ActionStore.for_state_dir(tmp_path / "state") for _ in range(2)]

    def work(store: ActionStore, who: str) -> None:
        for i in range(8):
            store.audit("note", who, reason=str(i))

    threads = [threading.Thread(target=work, args=(s, f"w{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = stores[0].verify_audit()
    assert check.ok and check.entries == 16


def test_respond_takes_incident_rows(make_responder: MakeResponder, nft: FakeNft) -> None:
    r = make_responder(mode="auto", backends=["nftables"])
    row = {"id": "INC-0042", "server_ip": "203.0.113.42", "server_domain": None, "host_ip": "10.1.2.3",
           "severity": "critical"}
    assert r.decide(row).action == "block"
    (action,) = r.respond(row).actions
    assert (action.incident_id, action.status) == ("INC-0042", "active")
    assert nft.elements()["203.0.113.42"].comment == "INC-0042 ACT-0001"
