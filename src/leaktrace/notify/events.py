"""What to notify after an analysis run: a pure comparison of the incidents before and after it.

For a target whose minimum severity is ``min_severity``:

* **opened**: an active incident at or above the minimum that the target has not been told about: new this
  run, active again after being inactive, or just risen from below the minimum to it or above (then
  ``previous`` is the severity it rose from). Each target thus gets one "opened" per incident, at the moment
  the incident first matters to it.
* **escalated**: an active incident that was already at or above the minimum and whose severity rose.

A severity that falls, an unchanged one, or an incident that became inactive gives nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from leaktrace.notify.settings import severity_rank


@dataclass(frozen=True)
class IncidentState:
    """What the comparison needs of an incident."""

    severity: str
    active: bool = True
    tenant: str = ""


@dataclass(frozen=True)
class IncidentEvent:
    incident_id: str
    event: Literal["opened", "escalated"]
    severity: str
    previous: str | None = None
    tenant: str = ""


def snapshot(incidents: Iterable[Any]) -> dict[str, IncidentState]:
    """id → state of :class:`~leaktrace.incidents.db.IncidentRow` objects (active and inactive)."""
    return {
        i.id: IncidentState(severity=i.severity, active=bool(i.active), tenant=i.tenant) for i in incidents
    }


def _state(value: IncidentState | str) -> IncidentState:
    return value if isinstance(value, IncidentState) else IncidentState(severity=value)


def detect_events(
    before: Mapping[str, IncidentState | str],
    after: Mapping[str, IncidentState | str],
    min_severity: str = "low",
) -> list[IncidentEvent]:
    """The events for a target with ``min_severity`` (a plain severity string stands for an active incident)."""
    floor = severity_rank(min_severity)
    out: list[IncidentEvent] = []
    for incident_id in sorted(after):
        now = _state(after[incident_id])
        rank = severity_rank(now.severity)
        if not now.active or rank < 0 or rank < floor:
            continue
        old = before.get(incident_id)
        prev = _state(old) if old is not None else None
        if prev is None or not prev.active:
            out.append(IncidentEvent(incident_id, "opened", now.severity, None, now.tenant))
            continue
        prev_rank = severity_rank(prev.severity)
        if rank <= prev_rank:
            continue
        kind: Literal["opened", "escalated"] = "opened" if prev_rank < floor else "escalated"
        out.append(IncidentEvent(incident_id, kind, now.severity, prev.severity, now.tenant))
    return out
