"""Windows events rebuilt from the normalised endpoint rows, so Sigma rules can run over the lake.

Ingest splits a Windows event into mapped columns and ``extra`` (every other field, plus ``event_id`` and
``channel``); ``win_event`` keeps unmapped events whole. This module puts the mapped columns back under their
Windows field names. What ingest normalised cannot be undone exactly: GUIDs lose their braces' case, a 4688
``NewProcessId`` becomes a decimal number, and ``User`` is ``DOMAIN\\name``. Sigma rules test those fields
rarely; a rule that does may match less over the lake than over the raw file (the regression test runs on
raw files). Rows inferred from command lines (``extra.inferred_from``) are not events and are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from leaktrace.sigma.events import flatten_event

Row = dict[str, Any]
SYSMON = "Microsoft-Windows-Sysmon/Operational"

# (table, event id) -> {column: Windows field}
_PROCESS_START = {"pid": "ProcessId", "process_guid": "ProcessGuid", "image": "Image",
                  "command_line": "CommandLine", "parent_pid": "ParentProcessId",
                  "parent_guid": "ParentProcessGuid", "parent_image": "ParentImage", "user": "User"}
_MAPS: dict[tuple[str, int], dict[str, str]] = {
    ("process", 1): _PROCESS_START,
    ("process", 5): {"pid": "ProcessId", "process_guid": "ProcessGuid", "image": "Image", "user": "User"},
    ("process", 4688): {"pid": "NewProcessId", "image": "NewProcessName", "command_line": "CommandLine",
                        "parent_pid": "ProcessId", "parent_image": "ParentProcessName"},
    ("process", 4689): {"pid": "ProcessId", "image": "ProcessName"},
    ("endpoint_conn", 3): {"pid": "ProcessId", "process_guid": "ProcessGuid", "image": "Image", "user": "User",
                           "proto": "Protocol", "src_ip": "SourceIp", "src_port": "SourcePort",
                           "dst_ip": "DestinationIp", "dst_port": "DestinationPort",
                           "dst_host": "DestinationHostname"},
    ("endpoint_conn", 5156): {"pid": "ProcessID", "image": "Application", "src_ip": "SourceAddress",
                              "src_port": "SourcePort", "dst_ip": "DestAddress", "dst_port": "DestPort"},
    ("file_event", 4663): {"pid": "ProcessId", "image": "ProcessName", "path": "ObjectName"},
    ("file_event", 4656): {"pid": "ProcessId", "image": "ProcessName", "path": "ObjectName"},
}
_SYSMON_FILE = {"pid": "ProcessId", "process_guid": "ProcessGuid", "image": "Image", "path": "TargetFilename",
                "user": "User"}
for _eid in (2, 11, 15, 23, 26, 29):
    _MAPS[("file_event", _eid)] = _SYSMON_FILE


def _extra(row: Row) -> dict[str, Any]:
    raw = row.get("extra")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def _guid(value: Any) -> Any:
    if isinstance(value, str) and value and not value.startswith("{"):
        return "{" + value.upper() + "}"
    return value


def event_from_row(table: str, row: Row) -> Row | None:
    """One Windows event (flat: Channel, EventID, Computer and the EventData fields) from a normalised row."""
    if table == "win_event":
        try:
            data = json.loads(row.get("data") or "{}")
        except ValueError:
            data = {}
        whole: Row = dict(data) if isinstance(data, dict) else {}
        whole.update(Channel=row.get("channel"), EventID=row.get("event_id"), Computer=row.get("host"))
        return flatten_event(whole)
    extra = _extra(row)
    if "inferred_from" in extra or "event_id" not in extra:
        return None
    eid = extra.pop("event_id")
    try:
        eid = int(eid)
    except (TypeError, ValueError):
        return None
    channel = extra.pop("channel", None)
    mapping = _MAPS.get((table, eid))
    if mapping is None:
        return None
    ev: Row = {k: v for k, v in extra.items() if k not in ("record_id", "ts_raw")}
    for col, name in mapping.items():
        value = row.get(col)
        if value is None:
            continue
        if col.endswith("guid"):
            value = _guid(value)
        ev[name] = value
    if eid == 4688 and row.get("user") and "TargetUserName" not in ev:
        ev["SubjectUserName"] = str(row["user"]).split("\\")[-1]
    ev.update(Channel=channel or (SYSMON if eid < 4000 else "Security"), EventID=eid, Computer=row.get("host"))
    return flatten_event(ev)  # the same aliases as raw events get (4688's NewProcessName is also Image, ...)


def lake_events(tables: Mapping[str, Iterable[Row]]) -> Iterator[tuple[Row, Row]]:
    """(event, source row) for every row of ``process``, ``file_event``, ``endpoint_conn``, ``win_event``."""
    for name in ("process", "file_event", "endpoint_conn", "win_event"):
        for row in tables.get(name, ()):
            ev = event_from_row(name, row)
            if ev is not None:
                yield ev, row
