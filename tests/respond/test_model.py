from __future__ import annotations

from datetime import timedelta

import pytest

from leaktrace.respond import BlockError, BlockRule, format_duration, parse_duration
from leaktrace.respond.model import classify


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("12h", 43200), ("7d", 604800), ("2w", 1209600), ("1h30m", 5400), ("90", 90)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["never", "", "none"])
def test_parse_duration_never(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize("text", ["7x", "d7", "7d junk", "-3h", "0s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(BlockError):
        parse_duration(text)


def test_format_duration() -> None:
    assert format_duration(604800) == "7d"
    assert format_duration(5400) == "1h30m"
    assert format_duration(2) == "2s"


def test_classify() -> None:
    assert classify(" 203.0.113.7 ") == ("ip", "203.0.113.7")
    assert classify("2001:DB8:0::7") == ("ip", "2001:db8::7")
    assert classify("Evil.Example.") == ("domain", "evil.example")
    assert classify("*.evil.example") == ("domain", "evil.example")
    assert classify("例え.jp") == ("domain", "xn--r8jz45g.jp")
    with pytest.raises(BlockError):
        classify("not a host")
    with pytest.raises(BlockError):
        classify("localhost")


def test_rule_label_is_safe() -> None:
    rule = BlockRule.make("203.0.113.7", comment='x"; drop table')
    assert '"' not in rule.label and ";" not in rule.label
