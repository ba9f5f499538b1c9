"""Notifications from the monitoring centre to a tenant when an incident is opened or escalated.

Channels (``webhook`` signed with HMAC-SHA256, ``smtp``, ``syslog`` CEF) are plugins in one registry; targets
and the retry policy come from ``[notify]``; every delivery is recorded in the workspace's state database and
the same (incident, event, severity) is never sent twice to the same target.
"""

from leaktrace.notify.channels.syslog import cef_line
from leaktrace.notify.channels.webhook import sign, verify_signature
from leaktrace.notify.delivery import Notifier, Outcome
from leaktrace.notify.events import IncidentEvent, IncidentState, detect_events, snapshot
from leaktrace.notify.hook import incidents_before, notify_after_analysis
from leaktrace.notify.message import Notification
from leaktrace.notify.record import NotificationRecord, NotificationRow
from leaktrace.notify.registry import Channel, channels
from leaktrace.notify.settings import NotifySettings, RetrySettings, TargetSettings

__all__ = [
    "Channel",
    "IncidentEvent",
    "IncidentState",
    "Notification",
    "NotificationRecord",
    "NotificationRow",
    "Notifier",
    "NotifySettings",
    "Outcome",
    "RetrySettings",
    "TargetSettings",
    "cef_line",
    "channels",
    "detect_events",
    "incidents_before",
    "notify_after_analysis",
    "sign",
    "snapshot",
    "verify_signature",
]
