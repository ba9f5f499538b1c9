"""Flatten Windows event JSON into the flat dicts Sigma rules are written against.

Shapes handled:

* EVTX rendered as JSON (``evtx_dump`` / python-evtx / the SigmaHQ regression samples):
  ``{"Event": {"System": {...}, "EventData": {...} | "UserData": {...}}}``;
* Winlogbeat / Elastic: ``{"winlog": {"event_id", "channel", "provider_name", "event_data": {...}}}``;
* already flat records (NXLog, OTRF/Mordor exports: ``SourceName``, ``Channel``, ``EventID``, data fields).

The result uses Sigma's field names: ``EventID`` (int), ``Channel``, ``Provider_Name``, ``Computer``,
``EventRecordID``, ``TimeCreated`` and the event data fields as-is. Security 4688 events also get the Sysmon
process-creation names (``Image``, ``ParentImage``, ``ProcessId``, ``ParentProcessId``) so that one
``process_creation`` rule covers both sources.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

_TEXT = "#text"
_ATTRS = "#attributes"

# provider name -> channel, for records that carry only the provider
PROVIDER_CHANNELS: dict[str, str] = {
    "microsoft-windows-sysmon": "Microsoft-Windows-Sysmon/Operational",
    "microsoft-windows-security-auditing": "Security",
    "microsoft-windows-powershell": "Microsoft-Windows-PowerShell/Operational",
    "powershell": "Windows PowerShell",
    "service control manager": "System",
    "microsoft-windows-windows defender": "Microsoft-Windows-Windows Defender/Operational",
}

# Security 4688 -> Sysmon 1 field names (same meaning, different names)
_4688_ALIASES = (
    ("NewProcessName", "Image"),
    ("ParentProcessName", "ParentImage"),
    ("ProcessCommandLine", "CommandLine"),
)


def _unwrap(v: Any) -> Any:
    """``{"#text": x, "#attributes": {...}}`` -> x; other values unchanged."""
    if isinstance(v, Mapping):
        if _TEXT in v:
            return _unwrap(v[_TEXT])
        if set(v) <= {_ATTRS}:
            return None
    return v


def _attr(v: Any, name: str) -> Any:
    if isinstance(v, Mapping):
        attrs = v.get(_ATTRS)
        if isinstance(attrs, Mapping):
            return attrs.get(name)
    return None


def _merge_data(out: dict[str, Any], data: Any) -> None:
    """Copy EventData / UserData fields into ``out`` (nested single-child UserData is unwrapped)."""
    if not isinstance(data, Mapping):
        if isinstance(data, list):
            out.setdefault("Data", data)
        return
    for k, v in data.items():
        if k == _ATTRS:
            continue
        if k == "Data" and isinstance(v, list):
            # unnamed <Data> items: keep the list and expose them as param1..N as Windows does
            for i, item in enumerate(v, 1):
                name = _attr(item, "Name") or (item.get("@Name") if isinstance(item, Mapping) else None)
                out[str(name) if name else f"param{i}"] = _unwrap(item)
            out.setdefault("Data", [_unwrap(x) for x in v])
            continue
        if isinstance(v, Mapping) and _TEXT not in v:
            _merge_data(out, v)  # UserData: {"SomeEvent": {fields...}}
            continue
        out[k] = _unwrap(v)


def _from_evtx(event: Mapping[str, Any]) -> dict[str, Any]:
    system = event.get("System") or {}
    out: dict[str, Any] = {}
    for k, v in system.items():
        if k == "Provider":
            out["Provider_Name"] = _attr(v, "Name")
            guid = _attr(v, "Guid")
            if guid:
                out["Provider_Guid"] = guid
        elif k == "TimeCreated":
            out["TimeCreated"] = _attr(v, "SystemTime")
        elif k == "Security":
            out["UserID"] = _attr(v, "UserID")
        elif k == "Execution":
            out["ExecutionProcessID"] = _attr(v, "ProcessID")
            out["ExecutionThreadID"] = _attr(v, "ThreadID")
        elif k == "Correlation":
            continue
        else:
            out[k] = _unwrap(v)
    _merge_data(out, event.get("EventData"))
    _merge_data(out, event.get("UserData"))
    return out


def _from_winlogbeat(raw: Mapping[str, Any]) -> dict[str, Any]:
    w = raw["winlog"]
    out: dict[str, Any] = {}
    _merge_data(out, w.get("event_data"))
    _merge_data(out, w.get("user_data"))
    out["EventID"] = w.get("event_id", (raw.get("event") or {}).get("code"))
    out["Channel"] = w.get("channel")
    out["Provider_Name"] = w.get("provider_name")
    out["Computer"] = w.get("computer_name") or (raw.get("host") or {}).get("name")
    out["EventRecordID"] = w.get("record_id")
    out["TimeCreated"] = raw.get("@timestamp")
    if raw.get("message") is not None:
        out.setdefault("Message", raw["message"])
    return out


def _from_flat(raw: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    if "Provider_Name" not in out:
        for k in ("SourceName", "ProviderName", "Provider"):
            if isinstance(out.get(k), str):
                out["Provider_Name"] = out[k]
                break
    if "Computer" not in out and isinstance(out.get("Hostname"), str):
        out["Computer"] = out["Hostname"]
    if "TimeCreated" not in out and "@timestamp" in out:
        out["TimeCreated"] = out["@timestamp"]
    if "EventRecordID" not in out and "RecordNumber" in out:
        out["EventRecordID"] = out["RecordNumber"]
    return out


def _to_int(v: Any) -> Any:
    if isinstance(v, str) and v.strip().isdigit():
        return int(v)
    return v


def flatten_event(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One raw event (any supported shape) -> a flat Sigma-style dict."""
    ev = raw.get("Event")
    if isinstance(ev, Mapping) and "System" in ev:
        out = _from_evtx(ev)
    elif isinstance(raw.get("winlog"), Mapping):
        out = _from_winlogbeat(raw)
    else:
        out = _from_flat(raw)
    out["EventID"] = _to_int(out.get("EventID"))
    if not out.get("Channel"):
        prov = out.get("Provider_Name")
        if isinstance(prov, str) and prov.lower() in PROVIDER_CHANNELS:
            out["Channel"] = PROVIDER_CHANNELS[prov.lower()]
    if out["EventID"] == 4688 and str(out.get("Channel", "")).lower() == "security":
        _alias_4688(out)
    return out


def _alias_4688(out: dict[str, Any]) -> None:
    for src, dst in _4688_ALIASES:
        if src in out and dst not in out:
            out[dst] = out[src]
    # in 4688, ProcessId is the creator; NewProcessId the new process
    if "NewProcessId" in out:
        if "ProcessId" in out:
            out.setdefault("ParentProcessId", out["ProcessId"])
        out["ProcessId"] = out["NewProcessId"]
    if "SubjectUserName" in out and "User" not in out:
        dom = out.get("SubjectDomainName")
        out["User"] = f"{dom}\\{out['SubjectUserName']}" if dom else out["SubjectUserName"]


def flatten_events(raws: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    for raw in raws:
        yield flatten_event(raw)


def iter_json_documents(text: str, source: str = "<string>") -> Iterator[Any]:
    """JSON lines, one JSON array, or several pretty-printed JSON objects one after another."""
    dec = json.JSONDecoder()
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return
        try:
            obj, i = dec.raw_decode(text, i)
        except json.JSONDecodeError as e:
            line = text.count("\n", 0, e.pos) + 1
            start = text.count("\n", 0, i) + 1
            raise ValueError(
                f"{source}:{line}: invalid JSON in the document starting at line {start}: {e.msg}"
            ) from e
        if isinstance(obj, list):
            yield from obj
        else:
            yield obj


def read_json_events(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSON / JSON-lines event file and flatten every event."""
    p = Path(path)
    text = p.read_text(encoding="utf-8-sig")
    return [flatten_event(obj) for obj in iter_json_documents(text, str(p)) if isinstance(obj, Mapping)]
