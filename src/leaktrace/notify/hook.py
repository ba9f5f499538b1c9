"""The analysis hook: snapshot the incidents before ``regroup``, compare after it, notify the targets.

Kept apart so that :mod:`leaktrace.incidents.analyze` needs two calls only. A delivery failure never fails the
analysis: it is recorded (``leaktrace notifications``), logged, and returned in the outcomes.
"""

from __future__ import annotations

import logging
from typing import Any

from leaktrace.notify.delivery import Notifier, Outcome, failures
from leaktrace.notify.events import IncidentState, snapshot

log = logging.getLogger(__name__)


def incidents_before(ws: Any, store: Any, tenant: str) -> dict[str, IncidentState] | None:
    """The incidents of ``tenant`` before the run, or None when ``[notify]`` has no target (nothing to do)."""
    if not ws.config.notify.targets:
        return None
    return snapshot(store.incidents(tenant, include_inactive=True))


def notify_after_analysis(
    ws: Any, store: Any, tenant: str, before: dict[str, IncidentState] | None, **notifier_kwargs: Any
) -> list[Outcome]:
    """Compare with ``before`` and deliver what changed. Returns every outcome (sent, failed, duplicate)."""
    if before is None:
        return []
    rows = store.incidents(tenant, include_inactive=True)
    outcomes = Notifier.for_workspace(ws, **notifier_kwargs).notify_changes(
        before, snapshot(rows), {r.id: r for r in rows}
    )
    bad = failures(outcomes)
    if bad:
        log.error("%d of %d notification(s) failed; see `leaktrace notifications`", len(bad), len(outcomes))
    return outcomes
