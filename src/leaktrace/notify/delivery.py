"""Delivery: for each (target, notification), skip duplicates, attempt with backoff, record the outcome.

A delivery failure is an outcome, not an exception: the caller (the analysis, the CLI) reports it. Time is
injected (``sleep``, ``clock``) so tests never wait.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from leaktrace.errors import NotifyError
from leaktrace.notify.events import IncidentEvent, IncidentState, detect_events
from leaktrace.notify.message import Notification, utcnow
from leaktrace.notify.record import NotificationRecord, NotificationRow
from leaktrace.notify.registry import Channel, channel_class
from leaktrace.notify.settings import NotifySettings, TargetSettings

log = logging.getLogger(__name__)

Status = Literal["sent", "failed", "duplicate"]


@dataclass(frozen=True)
class Outcome:
    target: str
    channel: str
    incident_id: str
    event: str
    severity: str
    status: Status
    attempts: int = 0
    error: str | None = None
    delivery_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


ChannelFactory = Callable[[TargetSettings, Callable[[], datetime]], Channel]


def make_channel(target: TargetSettings, clock: Callable[[], datetime] = utcnow) -> Channel:
    return channel_class(target.channel)(target.channel_options(), lang=target.lang, clock=clock)


class Notifier:
    """Sends notifications to the configured targets and records every delivery."""

    def __init__(
        self,
        settings: NotifySettings,
        record: NotificationRecord,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        channel_factory: ChannelFactory = make_channel,
    ) -> None:
        self.settings = settings
        self.record = record
        self.sleep = sleep
        self.clock = clock
        self.channel_factory = channel_factory

    @classmethod
    def for_workspace(cls, ws: Any, **kwargs: Any) -> Notifier:
        return cls(ws.config.notify, NotificationRecord.for_workspace(ws), **kwargs)

    # -- after an analysis -----------------------------------------------------------------------------------
    def notify_changes(
        self,
        before: Mapping[str, IncidentState],
        after: Mapping[str, IncidentState],
        incidents: Mapping[str, Any],
    ) -> list[Outcome]:
        """Detect, per target, what changed between ``before`` and ``after`` and deliver it. ``incidents``:
        id → :class:`~leaktrace.incidents.db.IncidentRow` (what the messages describe)."""
        outcomes: list[Outcome] = []
        for target in self.settings.targets:
            if not target.enabled:
                continue
            for ev in detect_events(before, after, target.min_severity):
                inc = incidents.get(ev.incident_id)
                if inc is None or ev.event not in target.events or not target.serves(inc.tenant):
                    continue
                try:
                    outcomes.append(self.send_incident(target, inc, ev))
                except NotifyError as exc:  # a target that cannot even be set up: recorded as an outcome
                    log.error("notification %s %s to %s: %s", ev.incident_id, ev.event, target.name, exc)
                    outcomes.append(Outcome(target.name, target.channel, ev.incident_id, ev.event, ev.severity,
                                            "failed", 0, str(exc)))  # fmt: skip
        return outcomes

    # -- one delivery ----------------------------------------------------------------------------------------
    def send_incident(
        self,
        target: TargetSettings,
        inc: Any,
        ev: IncidentEvent,
        trigger: str = "analysis",
        force: bool = False,
    ) -> Outcome:
        """Deliver ``ev`` about ``inc`` to ``target`` unless it was already sent there (``force``: anyway)."""
        if not target.serves(inc.tenant):  # never tell one tenant about another's incident
            raise NotifyError(f"target '{target.name}' does not serve tenant '{inc.tenant}'", retryable=False)
        if not force and self.record.already_sent(inc.id, ev.event, inc.severity, target.name):
            log.info("notification %s %s to %s: already sent", inc.id, ev.event, target.name)
            return Outcome(target.name, target.channel, inc.id, ev.event, inc.severity, "duplicate")
        n = Notification.from_incident(
            inc, ev.event, ev.previous, link=self.settings.link(inc.id), now=self.clock()
        )
        return self.deliver(target, n, trigger)

    def send_test(self, target: TargetSettings) -> Outcome:
        tenant = target.tenants[0] if target.tenants else "test"
        return self.deliver(target, Notification.test(tenant, self.settings.base_url, self.clock()), "test")

    def deliver(self, target: TargetSettings, n: Notification, trigger: str = "analysis") -> Outcome:
        """Render once, attempt up to ``retry.attempts`` times with backoff, record every step."""
        channel = self.channel_factory(target, self.clock)
        payload = channel.render(n)
        row = self.record.add(
            NotificationRow(
                delivery_id=n.delivery_id,
                incident_id=n.incident_id,
                tenant=n.tenant,
                event=n.event,
                severity=n.severity,
                previous_severity=n.previous_severity,
                target=target.name,
                channel=target.channel,
                attempts=0,
                status="pending",
                payload_sha256=hashlib.sha256(payload).hexdigest(),
                trigger=trigger,
                created_at=self.clock(),
                updated_at=self.clock(),
            )
        )
        retry = self.settings.retry
        error: NotifyError | None = None
        attempts = 0
        for attempt in range(1, retry.attempts + 1):
            if attempt > 1:
                self.sleep(retry.delay(attempt - 1))
            attempts = attempt
            try:
                channel.deliver(n, payload)
            except NotifyError as exc:
                error = exc
                log.warning(
                    "notification %s %s to %s: attempt %d/%d failed: %s",
                    n.incident_id, n.event, target.name, attempt, retry.attempts, exc,
                )  # fmt: skip
                self.record.update(row.id, attempts=attempt, last_error=str(exc))
                if not exc.retryable:
                    break
                continue
            now = self.clock()
            self.record.update(row.id, attempts=attempt, status="sent", sent_at=now, last_error=None)
            log.info(
                "notification %s %s sent to %s (attempt %d)", n.incident_id, n.event, target.name, attempt
            )
            return Outcome(target.name, target.channel, n.incident_id, n.event, n.severity, "sent", attempt,
                           None, n.delivery_id)  # fmt: skip
        message = str(error) if error else "not attempted"
        self.record.update(row.id, attempts=attempts, status="failed", last_error=message)
        log.error("notification %s %s to %s failed after %d attempt(s)", n.incident_id, n.event, target.name,
                  attempts)  # fmt: skip
        return Outcome(target.name, target.channel, n.incident_id, n.event, n.severity, "failed", attempts,
                       message, n.delivery_id)  # fmt: skip

    # -- by hand ---------------------------------------------------------------------------------------------
    def send_now(
        self,
        inc: Any,
        event: Literal["opened", "escalated"] = "opened",
        target: str | None = None,
        force: bool = False,
    ) -> list[Outcome]:
        """Send ``event`` about ``inc`` to every enabled target serving its tenant (or only ``target``),
        whatever their minimum severity and event filters: an operator asked for it."""
        if target is not None:
            chosen = [self.settings.target(target)]
            if not chosen[0].serves(inc.tenant):
                raise NotifyError(f"target '{target}' does not serve tenant '{inc.tenant}'", retryable=False)
        else:
            chosen = [t for t in self.settings.targets if t.enabled and t.serves(inc.tenant)]
            if not chosen:
                raise NotifyError(f"no notification target serves tenant '{inc.tenant}'", retryable=False)
        ev = IncidentEvent(inc.id, event, inc.severity, None, inc.tenant)
        return [self.send_incident(t, inc, ev, trigger="manual", force=force) for t in chosen]


def failures(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.status == "failed"]
