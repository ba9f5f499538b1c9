"""The watch's reaction: a suggestion made for a weak incident becomes a block when the incident escalates."""

from __future__ import annotations

from pathlib import Path

from leaktrace.live.react import PolicyReactor
from leaktrace.respond import RespondConfig, Responder
from leaktrace.respond.nft_twin import FakeNft
from leaktrace.respond.store import ActionStore

INC = {"id": "INC-0001", "host_ip": "10.1.0.5", "server_ip": "203.0.113.7", "server_domain": "c2.example.net"}


def responder(tmp_path: Path, nft: FakeNft, **extra: object) -> Responder:
    cfg = RespondConfig.model_validate({"mode": "auto", "auto_min_severity": "high",
                                        "backends": ["nftables", "csv"], **extra})
    return Responder(ActionStore.for_state_dir(tmp_path / "state"), cfg, internal=["10.0.0.0/8"], runner=nft,
                     export_dir=tmp_path / "state" / "exports")


def test_escalation_applies_the_earlier_suggestion(tmp_path: Path) -> None:
    nft = FakeNft()
    react = PolicyReactor(responder(tmp_path, nft))
    first = react({**INC, "severity": "medium"})
    assert first.decision is not None and first.decision.action == "suggest"
    assert "203.0.113.7" not in nft.elements()
    second = react({**INC, "severity": "critical"})
    assert second.decision is not None and second.decision.action == "block"
    assert {a.target: a.status for a in second.actions} == {"203.0.113.7": "active", "c2.example.net": "active"}
    assert "203.0.113.7" in nft.elements()
    events = [(e.event, e.actor) for e in react.responder.store.audit_entries()]
    assert ("approve", "leaktrace") in events
    assert react({**INC, "severity": "critical"}).actions == []  # again: already handled


def test_four_eyes_setting_cancels_and_blocks_instead(tmp_path: Path) -> None:
    nft = FakeNft()
    react = PolicyReactor(responder(tmp_path, nft, approver_must_differ=True))
    react({**INC, "severity": "low"})
    out = react({**INC, "severity": "high"})
    assert [a.status for a in out.actions] == ["active", "active"]
    assert "203.0.113.7" in nft.elements()
    statuses = sorted(a.status for a in react.responder.store.actions())
    assert statuses == ["active", "active", "rolled-back", "rolled-back"]
