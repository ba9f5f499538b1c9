"""The one place that turns an incident into a :class:`BlockTarget`, without depending on how incidents are
stored: any object with ``id``/``incident_id``, ``server_ip``, ``server_domain``, ``host_ip`` and ``severity``
attributes (or a mapping with those keys) will do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from leaktrace.errors import NotFoundError
from leaktrace.respond.model import BlockTarget

IncidentLookup = Callable[[str], Any]
TargetResolver = Callable[[str], BlockTarget]


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def target_from_incident(incident: Any) -> BlockTarget:
    """A :class:`BlockTarget` from an incident row, dataclass or dict."""
    if isinstance(incident, BlockTarget):
        return incident
    ident = _get(incident, "incident_id") or _get(incident, "id")
    return BlockTarget(
        server_ip=_get(incident, "server_ip") or None,
        server_domain=_get(incident, "server_domain") or None,
        host_ip=_get(incident, "host_ip") or None,
        incident_id=str(ident) if ident is not None else None,
        severity=_get(incident, "severity") or None,
    )


def incident_targets(lookup: IncidentLookup) -> TargetResolver:
    """Wrap ``lookup(incident_id) -> incident`` (e.g. ``Store(...).incident``) into ``id -> BlockTarget``."""

    def resolve(incident_id: str) -> BlockTarget:
        incident = lookup(incident_id)
        if incident is None:
            raise NotFoundError(f"no incident {incident_id}")
        return target_from_incident(incident)

    return resolve
