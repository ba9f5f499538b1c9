"""The nftables backend against its test twin: the scripts it writes, listing, replacement, kernel expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leaktrace.respond import BlockError, BlockRule
from leaktrace.respond.nft_twin import FakeNft
from leaktrace.respond.nftables import NftablesBlocker, parse_set_json
from leaktrace.respond.settings import NftablesSettings

from .conftest import Clock


def test_first_change_creates_table_atomically(nft: FakeNft, clock: Clock) -> None:
    b = NftablesBlocker(NftablesSettings(), nft)
    rule = BlockRule.make("203.0.113.7", comment="INC-0001", expires=clock() + timedelta(days=7))
    applied = b.apply(rule, clock())
    assert applied.text == 'add element inet leaktrace blocked_v4 { 203.0.113.7 timeout 7d comment "INC-0001" }'
    assert applied.enforced and applied.expires_in == 7 * 86400
    assert nft.commands == [["nft", "-f", "-"]]
    script = nft.scripts[0]
    assert script.startswith("add table inet leaktrace\n")
    assert "add set inet leaktrace blocked_v4 { type ipv4_addr; flags timeout; }" in script
    assert "add rule inet leaktrace output ip daddr @blocked_v4 counter drop" in script
    assert "add rule inet leaktrace forward ip saddr @blocked_v4 counter drop" in script
    assert script.rstrip().endswith(applied.text)
    b.apply(BlockRule.make("2001:db8::7"), clock())
    assert not nft.scripts[1].startswith("add table")  # the table is set up once per blocker


def test_reapply_replaces_timeout_and_comment(nft: FakeNft, clock: Clock) -> None:
    b = NftablesBlocker(runner=nft)
    b.apply(BlockRule.make("203.0.113.7", comment="A", expires=clock() + timedelta(hours=1)), clock())
    b.apply(BlockRule.make("203.0.113.7", comment="B", expires=clock() + timedelta(days=2)), clock())
    (elem,) = b.list()
    assert (elem.value, elem.comment, elem.expires_in, elem.extra["timeout"]) == ("203.0.113.7", "B", 172800, 172800)


def test_remove_is_idempotent(nft: FakeNft, clock: Clock) -> None:
    b = NftablesBlocker(runner=nft)
    rule = BlockRule.make("203.0.113.7")
    b.apply(rule, clock())
    b.remove(rule)
    b.remove(rule)  # already gone (e.g. expired in the kernel): no error
    assert b.list() == []


def test_kernel_timeout_expires_elements(nft: FakeNft, clock: Clock) -> None:
    b = NftablesBlocker(runner=nft)
    b.apply(BlockRule.make("203.0.113.7", expires=clock() + timedelta(seconds=30)), clock())
    b.apply(BlockRule.make("203.0.113.8"), clock())
    clock.advance(seconds=31)
    assert [e.value for e in b.list()] == ["203.0.113.8"]


def test_domains_are_not_for_nftables(nft: FakeNft) -> None:
    b = NftablesBlocker(runner=nft)
    rule = BlockRule.make("evil.example")
    assert not b.supports(rule)
    with pytest.raises(BlockError, match="IP addresses only"):
        b.apply(rule)


def test_list_without_table_is_empty(nft: FakeNft) -> None:
    assert NftablesBlocker(runner=nft).list() == []


def test_failures_name_the_command(nft: FakeNft) -> None:
    nft.fail_with = "`nft -f -` failed: Operation not permitted"
    with pytest.raises(BlockError, match="Operation not permitted"):
        NftablesBlocker(runner=nft).apply(BlockRule.make("203.0.113.7"))


def test_reject_verdict_and_input_hook() -> None:
    b = NftablesBlocker(NftablesSettings(hooks=["input"], verdict="reject", table="lt2"), FakeNft())
    script = b.setup_script()
    assert "add chain inet lt2 input { type filter hook input priority -10; policy accept; }" in script
    assert "add rule inet lt2 input ip saddr @blocked_v4 counter reject" in script
    assert "output" not in script


def test_parse_real_json_shapes() -> None:
    text = (
        '{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"family": "inet", "name": "blocked_v4", '
        '"table": "leaktrace", "type": "ipv4_addr", "flags": ["timeout"], "elem": ["192.0.2.1", {"elem": '
        '{"val": "203.0.113.7", "timeout": 3600, "expires": 3599, "comment": "INC-0002"}}]}}]}'
    )
    a, b = parse_set_json(text)
    assert (a.value, a.expires_in, a.comment) == ("192.0.2.1", None, "")
    assert (b.value, b.expires_in, b.comment, b.extra["timeout"]) == ("203.0.113.7", 3599, "INC-0002", 3600)
