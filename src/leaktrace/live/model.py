"""What the watch loop passes around: micro-batches from sources, incident events, and the ports (protocols)
behind which every side effect sits (sources, analysis, response, output, clock)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

EventKind = Literal["new", "escalated"]


@dataclass
class Batch:
    """What one source delivered in one poll: rows committed to the lake per table, and notes."""

    source: str
    rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


class Source(Protocol):
    """A live source. ``poll()`` commits whatever complete data arrived since the last call to the lake and
    says what it committed (None: nothing new). ``start``/``stop`` acquire and release resources."""

    name: str

    def start(self) -> None: ...

    def poll(self) -> Batch | None: ...

    def stop(self) -> None: ...


class Analyzer(Protocol):
    """Incremental analysis: returns the current incidents (any objects with ``id``, ``host_ip``,
    ``server_ip``, ``server_domain``, ``severity``, ``score``, ``bytes_out``)."""

    def __call__(self) -> list[Any]: ...


class Reactor(Protocol):
    """The response policy for one incident (``Responder.respond``); returns a printable outcome."""

    def __call__(self, incident: Any) -> Any: ...


@dataclass
class IncidentEvent:
    """An incident that is new, or whose severity rose, since the loop last saw it."""

    kind: EventKind
    incident: Any
    previous_severity: str | None = None
    outcome: Any = None
    error: str | None = None


@dataclass
class StepReport:
    """What one loop iteration did."""

    batches: list[Batch] = field(default_factory=list)
    analyzed: bool = False
    analysis_seconds: float = 0.0
    events: list[IncidentEvent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


Output = Callable[[str], None]
