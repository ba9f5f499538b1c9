"""The pure comparison of incidents before and after a run."""

from __future__ import annotations

from leaktrace.notify.events import IncidentEvent, IncidentState, detect_events


def kinds(events: list[IncidentEvent]) -> list[tuple[str, str, str, str | None]]:
    return [(e.incident_id, e.event, e.severity, e.previous) for e in events]


def test_opened_and_escalated() -> None:
    before = {"INC-0001": "medium", "INC-0002": "high", "INC-0003": "critical"}
    after = {
        "INC-0001": "high",  # rose
        "INC-0002": "high",  # unchanged
        "INC-0003": "high",  # fell
        "INC-0004": "low",  # new
        "INC-0005": "critical",  # new
    }
    assert kinds(detect_events(before, after)) == [
        ("INC-0001", "escalated", "high", "medium"),
        ("INC-0004", "opened", "low", None),
        ("INC-0005", "opened", "critical", None),
    ]


def test_minimum_severity() -> None:
    before = {"INC-0001": "low", "INC-0002": "high"}
    after = {"INC-0001": "medium", "INC-0002": "critical", "INC-0003": "medium", "INC-0004": "high"}
    assert kinds(detect_events(before, after, "high")) == [
        ("INC-0002", "escalated", "critical", "high"),
        ("INC-0004", "opened", "high", None),
    ]
    # rising from below the target's minimum to it: the target hears of it for the first time -> opened
    assert kinds(detect_events({"INC-0001": "medium"}, {"INC-0001": "critical"}, "high")) == [
        ("INC-0001", "opened", "critical", "medium")
    ]
    assert detect_events({}, {"INC-0001": "medium"}, "critical") == []


def test_active_flags_and_tenant() -> None:
    before = {
        "INC-0001": IncidentState("high", active=False, tenant="a"),
        "INC-0002": IncidentState("medium", tenant="a"),
    }
    after = {
        "INC-0001": IncidentState("high", active=True, tenant="a"),  # active again: news
        "INC-0002": IncidentState("critical", active=False, tenant="a"),  # gone: nothing
        "INC-0003": IncidentState("high", active=False, tenant="b"),  # new but inactive: nothing
    }
    assert detect_events(before, after) == [IncidentEvent("INC-0001", "opened", "high", None, "a")]


def test_nothing_changed_and_unknown_severity() -> None:
    same = {"INC-0001": "high", "INC-0002": "low"}
    assert detect_events(same, dict(same)) == []
    assert detect_events({}, {"INC-0001": "bogus"}) == []
