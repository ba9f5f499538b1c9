from __future__ import annotations

import pytest

from leaktrace.respond import BlockTarget, RespondConfig, decide
from leaktrace.respond.policy import protected_reason

ALLOW = ["update.microsoft.com", "198.51.100.0/24"]
INTERNAL = ["10.0.0.0/8", "fd00::/8"]


def _decide(target: BlockTarget, **cfg: object) -> str:
    return decide(target, RespondConfig.model_validate(cfg), allowlist=ALLOW, internal=INTERNAL).action


@pytest.mark.parametrize(
    ("severity", "expected"), [("critical", "block"), ("high", "block"), ("medium", "suggest"), (None, "suggest")]
)
def test_auto_blocks_from_min_severity(severity: str | None, expected: str) -> None:
    target = BlockTarget(server_ip="203.0.113.7", severity=severity, incident_id="INC-0001")
    assert _decide(target, mode="auto", auto_min_severity="high") == expected


def test_modes() -> None:
    target = BlockTarget(server_ip="203.0.113.7", severity="critical")
    assert _decide(target, mode="suggest") == "suggest"
    assert _decide(target, mode="approve") == "ask"
    assert _decide(target, mode="auto", auto_min_severity="low") == "block"


@pytest.mark.parametrize(
    "target",
    [
        BlockTarget(server_ip="198.51.100.20", severity="critical"),  # allowlisted CIDR
        BlockTarget(server_domain="dl.update.microsoft.com", severity="critical"),  # allowlisted parent domain
        BlockTarget(server_ip="203.0.113.9", server_domain="update.microsoft.com", severity="critical"),
        BlockTarget(server_ip="10.1.2.3", severity="critical"),  # internal
        BlockTarget(server_ip="fd00::1", severity="critical"),
        BlockTarget(server_ip="127.0.0.1", severity="critical"),  # special
        BlockTarget(server_ip="203.0.113.66", severity="critical"),  # never_block
        BlockTarget(server_domain="partner.example", severity="critical"),  # never_block domain
        BlockTarget(host_ip="10.1.2.3", severity="critical"),  # no server
    ],
)
def test_never_blocks_protected(target: BlockTarget) -> None:
    cfg = {"mode": "auto", "auto_min_severity": "low", "never_block": ["203.0.113.64/30", "partner.example"]}
    assert _decide(target, **cfg) == "refuse"


def test_internal_can_be_unprotected() -> None:
    target = BlockTarget(server_ip="10.1.2.3", severity="critical")
    assert _decide(target, mode="auto", protect_internal=False) == "block"


def test_protected_reason_names_the_list() -> None:
    why = protected_reason("198.51.100.20", allowlist=ALLOW)
    assert why is not None and "allowlist" in why and "198.51.100.0/24" in why
    assert protected_reason("evil.example", allowlist=ALLOW) is None
    assert protected_reason("microsoft.com", allowlist=ALLOW) is None  # a parent of an allowlisted name is not
