"""The watch loop with twins: a scripted source, a scripted analyzer, a recording reactor, a fake clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest

from leaktrace.live import Batch, FakeClock, SourceFailed, WatchLoop


@dataclass
class Inc:
    id: str
    severity: str
    host_ip: str = "10.1.0.5"
    server_ip: str = "203.0.113.7"
    server_domain: str | None = None
    score: float = 0.5
    bytes_out: int = 0
    kinds: tuple[str, ...] = ("beaconing",)


class ScriptedSource:
    name = "fake"

    def __init__(self, script: list[int], fail_at: int | None = None) -> None:
        self.script = list(script)
        self.fail_at = fail_at
        self.polls = 0
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    def poll(self) -> Batch | None:
        self.polls += 1
        if self.fail_at is not None and self.polls >= self.fail_at:
            raise SourceFailed("capture died")
        n = self.script.pop(0) if self.script else 0
        return Batch(self.name, rows={"conn": n}) if n else None

    def stop(self) -> None:
        self.stopped = True


class ScriptedAnalyzer:
    def __init__(self, results: list[list[Inc]]) -> None:
        self.results = results
        self.calls = 0

    def __call__(self) -> list[Any]:
        self.calls += 1
        return self.results.pop(0) if self.results else []


def test_new_and_escalated_incidents_are_printed_and_passed_to_the_policy() -> None:
    analyzer = ScriptedAnalyzer([[Inc("INC-0001", "medium")], [Inc("INC-0001", "medium")],
                                 [Inc("INC-0001", "critical", kinds=("beaconing", "exfiltration"))],
                                 [Inc("INC-0001", "high")]])
    reacted: list[tuple[str, str]] = []
    lines: list[str] = []
    loop = WatchLoop([ScriptedSource([3, 2, 0, 4, 1])], analyzer,
                     lambda inc: reacted.append((inc.id, inc.severity)), output=lines.append, clock=FakeClock())
    reports = [loop.step() for _ in range(5)]
    assert [r.analyzed for r in reports] == [True, True, False, True, True]  # no rows: no analysis
    assert analyzer.calls == 4
    assert reacted == [("INC-0001", "medium"), ("INC-0001", "critical")]  # lower severity later: no event
    assert [e.kind for r in reports for e in r.events] == ["new", "escalated"]
    assert lines[0].startswith("NEW INC-0001 medium") and "10.1.0.5 → 203.0.113.7" in lines[0]
    assert any(line.startswith("ESCALATED medium→ INC-0001 critical") for line in lines)


def test_known_incidents_are_not_reacted_to_again() -> None:
    analyzer = ScriptedAnalyzer([[Inc("INC-0001", "high"), Inc("INC-0002", "low")]])
    reacted: list[str] = []
    loop = WatchLoop([ScriptedSource([1])], analyzer, lambda inc: reacted.append(inc.id),
                     known=[Inc("INC-0001", "high")], clock=FakeClock())
    loop.step()
    assert reacted == ["INC-0002"]


def test_a_failing_response_is_reported_and_the_loop_goes_on() -> None:
    def boom(inc: Any) -> None:
        raise RuntimeError("nft missing")

    lines: list[str] = []
    loop = WatchLoop([ScriptedSource([1, 1])], ScriptedAnalyzer([[Inc("INC-0001", "high")],
                                                                 [Inc("INC-0002", "high")]]),
                     boom, output=lines.append, clock=FakeClock())
    first, second = loop.step(), loop.step()
    assert first.errors == ["RuntimeError: nft missing"] and second.events[0].incident.id == "INC-0002"
    assert "  response failed: RuntimeError: nft missing" in lines


def test_run_paces_by_the_interval_and_stops_sources() -> None:
    clock = FakeClock()
    src = ScriptedSource([1, 0, 1])
    loop = WatchLoop([src], ScriptedAnalyzer([]), interval=2.0, clock=clock)
    assert loop.run(threading.Event(), max_iterations=3) == 3
    assert src.started and src.stopped
    assert clock.sleeps == [2.0, 2.0]


def test_stop_event_and_failed_source() -> None:
    stop = threading.Event()
    stop.set()
    src = ScriptedSource([1])
    loop = WatchLoop([src], ScriptedAnalyzer([]), clock=FakeClock())
    assert loop.run(stop) == 1  # one last step for what arrived while stopping
    failing = ScriptedSource([], fail_at=2)
    loop = WatchLoop([failing], ScriptedAnalyzer([]), clock=FakeClock())
    with pytest.raises(SourceFailed):
        loop.run(threading.Event())
    assert failing.stopped
