"""One Windows event in a shape-independent form, from any of the JSON shapes it is shipped in.

Shapes recognised (see :func:`from_object`):

* **EVTX JSON** (``evtx_dump`` / pyevtx-rs, SigmaHQ regression ``.json``): ``{"Event": {"System": {...},
  "EventData": {...}}}`` with ``#attributes`` / ``#text`` nodes.
* **Winlogbeat / Elastic** (also as Elasticsearch hits, ``{"_index": .., "_source": {..}}``): ``winlog.event_id``, ``winlog.channel``, ``winlog.provider_name``,
  ``winlog.computer_name``, ``winlog.record_id``, ``winlog.event_data.*``, ``@timestamp``.
* **Flat** (NXLog, OTRF Security-Datasets, the simulator): ``EventID``, ``Hostname``/``Computer``,
  ``Channel``, ``SourceName``/``ProviderName``, a time in ``@timestamp``/``TimeCreated``/``EventTime``, and the
  event's own fields at the top level.

Time: ``ts_raw`` is the *record* time written by the host (``@timestamp``, ``TimeCreated``, ``EventTime``,
``System/TimeCreated/@SystemTime``), the only time every event has. It is taken as UTC when it carries no
offset (NXLog's ``EventTime`` is the collector's local time: it is then off by the zone offset, which the
clock-offset estimation in :mod:`leaktrace.clock` measures and corrects, like any wrong host clock).
Sysmon's own ``UtcTime`` stays among the fields (in ``extra``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leaktrace.ingest.endpoint.values import integer, text

# top-level keys of the flat shapes that describe the record, not the event (never copied into ``data``)
FLAT_SYSTEM_KEYS = frozenset(
    {
        "@timestamp", "@version", "TimeCreated", "EventTime", "EventReceivedTime", "EventID", "Hostname",
        "Computer", "Channel", "SourceName", "ProviderName", "ProviderGuid", "Level", "Keywords", "Task",
        "Opcode", "OpcodeValue", "Version", "RecordNumber", "EventRecordID", "SourceModuleName",
        "SourceModuleType", "SeverityValue", "Severity", "ExecutionProcessID", "ThreadID", "ActivityID",
        "RelatedActivityID", "Category", "Message", "tags", "host", "port", "log_name", "timestamp",
    }
)
_TIME_KEYS = ("@timestamp", "TimeCreated", "EventTime", "timestamp", "UtcTime")
_NXLOG_EVENT_TYPES = frozenset({"INFO", "AUDIT_SUCCESS", "AUDIT_FAILURE", "WARNING", "ERROR", "VERBOSE", "CRITICAL"})


@dataclass(slots=True)
class WinEvent:
    ts_raw: Any
    host: str | None
    channel: str | None
    provider: str | None
    event_id: int | None
    record_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    keywords: str | None = None
    message: str | None = None

    @property
    def is_sysmon(self) -> bool:
        return "Sysmon" in (self.channel or "") or "Sysmon" in (self.provider or "")

    @property
    def is_security(self) -> bool:
        return self.channel == "Security" or self.provider == "Microsoft-Windows-Security-Auditing"

    @property
    def failed(self) -> bool:
        """An audit-failure record (Keywords bit 0x0010000000000000, or Winlogbeat's "Audit Failure")."""
        k = integer(self.keywords)
        if k is not None:
            return bool(k & 0x0010000000000000)
        return "audit failure" in (self.keywords or "").lower()


def _node_text(node: Any) -> Any:
    if isinstance(node, dict):
        if "#text" in node:
            return _node_text(node["#text"])
        return None
    if isinstance(node, list):
        return "\n".join(str(_node_text(x)) for x in node if x is not None)
    return node


def _attr(node: Any, name: str) -> Any:
    if isinstance(node, dict):
        attrs = node.get("#attributes")
        if isinstance(attrs, dict):
            return attrs.get(name)
    return None


def _event_data(node: Any) -> dict[str, Any]:
    """EVTX ``EventData``/``UserData``: named fields as a dict; unnamed ``Data`` items as Data, Data_1, ..."""
    if not isinstance(node, dict):
        return {}
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k == "#attributes":
            continue
        if k == "Data" and not isinstance(v, dict | list):
            out["Data"] = v
        elif k == "Data":
            items = v if isinstance(v, list) else [v]
            for i, item in enumerate(items):
                name = _attr(item, "Name") or ("Data" if i == 0 else f"Data_{i}")
                out[str(name)] = _node_text(item) if isinstance(item, dict) else item
        elif isinstance(v, dict) and "#text" not in v:
            # UserData: one wrapper element holding the fields
            out.update(_event_data(v))
        else:
            out[k] = _node_text(v) if isinstance(v, dict) else v
    return out


def from_evtx_json(obj: dict[str, Any]) -> WinEvent:
    ev = obj.get("Event", obj)
    system = ev.get("System") or {}
    provider = system.get("Provider")
    event_id = system.get("EventID")
    data = _event_data(ev.get("EventData"))
    if "UserData" in ev:
        data.update(_event_data(ev.get("UserData")))
    return WinEvent(
        ts_raw=_attr(system.get("TimeCreated"), "SystemTime"),
        host=text(system.get("Computer")),
        channel=text(system.get("Channel")),
        provider=text(_attr(provider, "Name") or _node_text(provider)),
        event_id=integer(_node_text(event_id)),
        record_id=integer(_node_text(system.get("EventRecordID"))),
        data=data,
        keywords=text(_node_text(system.get("Keywords"))),
    )


def from_winlogbeat(obj: dict[str, Any]) -> WinEvent:
    wl = obj.get("winlog") or {}
    data: dict[str, Any] = {}
    for part in ("user_data", "event_data"):
        if isinstance(wl.get(part), dict):
            data.update(wl[part])
    host = wl.get("computer_name")
    if host is None and isinstance(obj.get("host"), dict):
        host = obj["host"].get("name") or obj["host"].get("hostname")
    event: dict[str, Any] = obj["event"] if isinstance(obj.get("event"), dict) else {}
    keywords = wl.get("keywords")
    return WinEvent(
        ts_raw=obj.get("@timestamp") or event.get("created"),
        host=text(host),
        channel=text(wl.get("channel")),
        provider=text(wl.get("provider_name")),
        event_id=integer(wl.get("event_id") if wl.get("event_id") is not None else event.get("code")),
        record_id=integer(wl.get("record_id")),
        data=data,
        keywords=text(",".join(keywords) if isinstance(keywords, list) else keywords),
        message=text(obj.get("message")),
    )


def from_flat(obj: dict[str, Any]) -> WinEvent:
    """A flat record; ``obj`` is consumed (its system keys are popped, the rest becomes ``data``)."""
    ts = None
    for k in _TIME_KEYS:
        v = obj.get(k)
        if v is not None and v != "":
            ts = v
            break
    system = {k: obj.pop(k) for k in FLAT_SYSTEM_KEYS.intersection(obj)}
    # NXLog's EventType (INFO, AUDIT_SUCCESS) is record metadata, Sysmon 12-14's EventType is a field
    if obj.get("EventType") in _NXLOG_EVENT_TYPES:
        obj.pop("EventType")
    host = system.get("Hostname") or system.get("Computer")
    if host is None and isinstance(system.get("host"), str):
        host = system["host"]
    return WinEvent(
        ts_raw=ts,
        host=text(host),
        channel=text(system.get("Channel") or system.get("log_name")),
        provider=text(system.get("SourceName") or system.get("ProviderName")),
        event_id=integer(system.get("EventID")),
        record_id=integer(system.get("RecordNumber") or system.get("EventRecordID")),
        data=obj,
        keywords=text(system.get("Keywords")),
        message=text(system.get("Message")),
    )


def shape_of(obj: dict[str, Any]) -> str | None:
    """'evtx', 'winlogbeat', 'flat' or None (not a Windows event)."""
    if isinstance(obj.get("Event"), dict) and "System" in obj["Event"]:
        return "evtx"
    if "System" in obj and "EventData" in obj:
        return "evtx"
    wl = obj.get("winlog")
    if isinstance(wl, dict) and ("event_id" in wl or "channel" in wl):
        return "winlogbeat"
    if "EventID" in obj:
        return "flat"
    return None


def from_object(obj: dict[str, Any]) -> WinEvent | None:
    """The event in any known shape (an Elasticsearch hit's ``_source`` is unwrapped); None if not one."""
    source = obj.get("_source")
    if isinstance(source, dict):
        obj = source
    shape = shape_of(obj)
    if shape == "evtx":
        return from_evtx_json(obj)
    if shape == "winlogbeat":
        return from_winlogbeat(obj)
    if shape == "flat":
        return from_flat(obj)
    return None
