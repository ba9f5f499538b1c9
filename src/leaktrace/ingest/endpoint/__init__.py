"""Endpoint telemetry ingest: Windows events (JSON shapes and EVTX) and Linux auditd logs.

Importing this package registers the ingesters ``windows-json``, ``evtx`` and ``auditd``.
"""

from leaktrace.ingest.endpoint import auditd, evtx, winjson  # noqa: F401  (registration)
from leaktrace.ingest.endpoint.auditd import AuditdIngester
from leaktrace.ingest.endpoint.evtx import EvtxIngester
from leaktrace.ingest.endpoint.winevent import WinEvent, from_object
from leaktrace.ingest.endpoint.winjson import WindowsJsonIngester

__all__ = ["AuditdIngester", "EvtxIngester", "WinEvent", "WindowsJsonIngester", "from_object"]
