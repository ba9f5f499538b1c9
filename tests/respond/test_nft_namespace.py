"""The nftables backend against the real kernel, in network namespaces the tests create and remove.

Skipped (with the reason) when not root or when ``ip netns`` / ``nft`` are unavailable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from leaktrace.respond import BlockRule, BlockTarget, RespondConfig, Responder
from leaktrace.respond.isolation import isolation_script, release_script
from leaktrace.respond.model import utcnow
from leaktrace.respond.nftables import NftablesBlocker
from leaktrace.respond.registry import make_blocker
from leaktrace.respond.settings import NftablesSettings
from leaktrace.respond.store import ActionStore

from .netns import NetnsPair, netns_pair, unavailable_reason

_WHY = unavailable_reason()
pytestmark = pytest.mark.skipif(_WHY is not None, reason=_WHY or "")


@pytest.fixture
def pair() -> Iterator[NetnsPair]:
    with netns_pair() as p:
        p.start_server()
        yield p


def _blocker(pair: NetnsPair) -> NftablesBlocker:
    return NftablesBlocker(NftablesSettings(prefix=pair.exec_prefix(pair.gw)))


def test_block_list_unblock_in_namespace(pair: NetnsPair) -> None:
    assert pair.connect(), "the external server must be reachable before the block"
    blocker = _blocker(pair)
    rule = BlockRule.make(pair.ext_ip, comment="INC-0001 ACT-0001", expires=utcnow() + timedelta(hours=1))
    applied = blocker.apply(rule)
    assert applied.enforced

    started = time.monotonic()
    assert not pair.connect(timeout=1.0), "the connection must fail once the server is blocked"
    assert time.monotonic() - started < 5

    raw = json.loads(pair.nft("-j", "list", "set", "inet", "leaktrace", "blocked_v4"))
    (elem,) = [e["elem"] for s in raw["nftables"] if "set" in s for e in s["set"]["elem"]]
    assert elem["val"] == pair.ext_ip and elem["comment"] == "INC-0001 ACT-0001"
    assert 3500 < elem["timeout"] <= 3600 and 0 < elem["expires"] <= elem["timeout"]
    (listed,) = blocker.list()
    assert listed.value == pair.ext_ip and listed.expires_in is not None and listed.expires_in > 3500

    blocker.remove(rule)
    assert blocker.list() == []
    assert pair.connect(), "unblocking must restore connectivity"
    blocker.remove(rule)  # removing again (e.g. after the kernel expired it) is not an error
    blocker.teardown()
    assert "leaktrace" not in pair.nft("list", "tables")


def test_kernel_expiry(pair: NetnsPair) -> None:
    blocker = _blocker(pair)
    blocker.apply(BlockRule.make(pair.ext_ip, expires=utcnow() + timedelta(seconds=2)))
    assert not pair.connect(timeout=0.5)
    time.sleep(3)
    assert blocker.list() == []
    assert pair.connect()


def test_established_upload_is_cut_mid_transfer(pair: NetnsPair) -> None:
    upload = pair.start_upload(chunks=100)  # ~5 s of 1 KB chunks on one connection
    time.sleep(0.5)
    _blocker(pair).apply(BlockRule.make(pair.ext_ip, comment="INC-0002"))
    out, _ = upload.communicate(timeout=10)
    sent = int(out.split()[-1])
    assert 0 < sent < 100, f"the established connection must be cut, {sent} chunks got through"


def test_responder_end_to_end(pair: NetnsPair, tmp_path: Path) -> None:
    settings = RespondConfig.model_validate(
        {"backends": ["nftables", "csv"], "nftables": {"prefix": pair.exec_prefix(pair.gw)}}
    )
    r = Responder(ActionStore.for_state_dir(tmp_path / "state"), settings, internal=[],  # 10.200/16 is "external"
                  export_dir=tmp_path / "state" / "exports")
    (row,) = r.block(BlockTarget(server_ip=pair.ext_ip, incident_id="INC-0001"), expire="1h", user="test").actions
    assert row.status == "active", row.error
    assert not pair.connect(timeout=0.5)
    assert f"{pair.ext_ip} timeout" in pair.nft("list", "set", "inet", "leaktrace", "blocked_v4")
    r.unblock(row.id, user="test")
    assert pair.connect()
    assert [e.event for e in r.store.audit_entries()] == ["request", "block", "unblock"]
    assert r.store.verify_audit().ok


def test_rendered_scripts_are_valid_nft(pair: NetnsPair) -> None:
    rules = [BlockRule.make("203.0.113.7", comment="INC-0001", expires=utcnow() + timedelta(days=7)),
             BlockRule.make("2001:db8::7"), BlockRule.make("evil.example")]
    pair.nft("-c", "-f", "-", input=make_blocker("nftables", RespondConfig()).render(rules))
    iso = isolation_script("nftables", "10.1.2.3", "INC-0001", ["10.9.9.9", "10.9.8.0/24", "fd00::/64"])
    pair.nft("-f", "-", input=iso)
    assert "10.1.2.3" in pair.nft("list", "set", "inet", "leaktrace_isolate", "hosts_v4")
    pair.nft("-f", "-", input=release_script("nftables", "10.1.2.3"))
    assert "10.1.2.3" not in pair.nft("list", "set", "inet", "leaktrace_isolate", "hosts_v4")
