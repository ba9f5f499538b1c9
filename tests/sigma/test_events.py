"""Event adapters: EVTX-JSON, Winlogbeat and flat (NXLog/OTRF) shapes -> flat Sigma field names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leaktrace.sigma import SigmaEngine, flatten_event, iter_json_documents, read_json_events

EVTX_JSON = {
    "Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770385F"}},
            "EventID": 1,
            "TimeCreated": {"#attributes": {"SystemTime": "2025-12-03T07:42:38.210937Z"}},
            "EventRecordID": 26765,
            "Correlation": None,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "pc1",
            "Security": {"#attributes": {"UserID": "S-1-5-18"}},
        },
        "EventData": {
            "Image": "C:\\Windows\\System32\\cmd.exe",
            "ProcessId": 9720,
            "CommandLine": "cmd /c whoami",
        },
    }
}


def test_evtx_json_shape() -> None:
    ev = flatten_event(EVTX_JSON)
    assert ev["EventID"] == 1 and ev["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert ev["Provider_Name"] == "Microsoft-Windows-Sysmon" and ev["Computer"] == "pc1"
    assert ev["EventRecordID"] == 26765 and ev["TimeCreated"] == "2025-12-03T07:42:38.210937Z"
    assert ev["Image"].endswith("cmd.exe") and ev["UserID"] == "S-1-5-18"


def test_userdata_and_unnamed_data() -> None:
    raw = {
        "Event": {
            "System": {
                "EventID": {"#text": "5858", "#attributes": {"Qualifiers": ""}},
                "Channel": "Microsoft-Windows-WMI-Activity/Operational",
            },
            "UserData": {
                "Operation_ClientFailure": {
                    "#attributes": {"xmlns": "x"},
                    "Operation": "op",
                    "ResultCode": "0x80041003",
                }
            },
        }
    }
    ev = flatten_event(raw)
    assert ev["EventID"] == 5858 and ev["Operation"] == "op" and ev["ResultCode"] == "0x80041003"
    raw2 = {
        "Event": {
            "System": {"EventID": 7045, "Channel": "System"},
            "EventData": {"Data": [{"#attributes": {"Name": "ServiceName"}, "#text": "evil"}, "plain"]},
        }
    }
    ev2 = flatten_event(raw2)
    assert ev2["ServiceName"] == "evil" and ev2["param2"] == "plain"


def test_winlogbeat_shape() -> None:
    raw = {
        "@timestamp": "2025-01-01T00:00:00Z",
        "message": "Process Create",
        "winlog": {
            "event_id": "1",
            "channel": "Microsoft-Windows-Sysmon/Operational",
            "provider_name": "Microsoft-Windows-Sysmon",
            "computer_name": "pc2",
            "record_id": 7,
            "event_data": {"Image": "C:\\x\\7z.exe", "CommandLine": "7z a -p s.7z *.docx"},
        },
    }
    ev = flatten_event(raw)
    assert (ev["EventID"], ev["Computer"], ev["EventRecordID"]) == (1, "pc2", 7)
    assert ev["Image"] == "C:\\x\\7z.exe" and ev["Message"] == "Process Create"


def test_flat_security_4688_gets_process_creation_names() -> None:
    raw = {
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "Channel": "Security",
        "Hostname": "PRD01",
        "EventID": 4688,
        "NewProcessName": "C:\\rundll32.exe",
        "NewProcessId": "0x1d9c",
        "ProcessId": "0xb6c",
        "ParentProcessName": "C:\\svchost.exe",
        "CommandLine": "rundll32 comsvcs.dll MiniDump",
        "SubjectUserName": "PRD01$",
        "SubjectDomainName": "PANDALAB",
    }
    ev = flatten_event(raw)
    assert ev["Image"] == "C:\\rundll32.exe" and ev["ParentImage"] == "C:\\svchost.exe"
    assert ev["ProcessId"] == "0x1d9c" and ev["ParentProcessId"] == "0xb6c"
    assert ev["Provider_Name"] == "Microsoft-Windows-Security-Auditing" and ev["Computer"] == "PRD01"
    assert ev["User"] == "PANDALAB\\PRD01$"


def test_channel_from_provider_when_missing() -> None:
    ev = flatten_event({"Provider_Name": "Microsoft-Windows-Sysmon", "EventID": "11", "TargetFilename": "x"})
    assert ev["Channel"] == "Microsoft-Windows-Sysmon/Operational" and ev["EventID"] == 11


def test_json_documents_lines_array_and_concatenated(tmp_path: Path) -> None:
    text = json.dumps(EVTX_JSON, indent=2) + "\n" + json.dumps(EVTX_JSON, indent=2)
    assert len(list(iter_json_documents(text))) == 2
    assert len(list(iter_json_documents(json.dumps([{"a": 1}, {"b": 2}])))) == 2
    assert len(list(iter_json_documents('{"a": 1}\n{"a": 2}\n'))) == 2
    p = tmp_path / "bad.json"
    p.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(ValueError, match=r"bad.json:3: .*starting at line 2"):
        read_json_events(p)


def test_evaluate_flatten_option() -> None:
    rule = """
title: whoami
id: 00000000-0000-4000-8000-00000000000a
author: test
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: whoami
    condition: sel
level: low
"""
    engine = SigmaEngine.from_yaml(rule)
    assert engine.evaluate([EVTX_JSON]) == []  # nested shape is not a flat event
    (m,) = engine.evaluate([EVTX_JSON], flatten=True)
    assert (m.record_id, m.computer, m.author) == (26765, "pc1", "test")


def test_regression_sample_evtx_and_json_agree() -> None:
    """The .evtx sample rendered by the `evtx` parser flattens like its .json twin."""
    evtx = pytest.importorskip("evtx")
    from tests.conftest import shared_data

    d = shared_data() / "sigmahq" / "regression_data" / "rules" / "windows" / "registry" / "registry_set"
    case = d / "registry_set_disable_administrative_share"
    if not case.is_dir():
        pytest.skip(f"{case} not found")
    (jpath,) = case.glob("*.json")
    (epath,) = case.glob("*.evtx")
    from_json = read_json_events(jpath)
    from_evtx = [flatten_event(json.loads(r["data"])) for r in evtx.PyEvtxParser(str(epath)).records_json()]
    keys = ("EventID", "Channel", "TargetObject", "Details", "Image")
    assert [{k: e.get(k) for k in keys} for e in from_evtx] == [
        {k: e.get(k) for k in keys} for e in from_json
    ]
