"""Golden tests of the matcher: each inline rule next to the events it must and must not match."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from leaktrace.sigma import SigmaEngine

SYSMON = "Microsoft-Windows-Sysmon/Operational"


def proc(**fields: Any) -> dict[str, Any]:
    """A Sysmon process-creation event."""
    return {"Channel": SYSMON, "EventID": 1, **fields}


def rule(detection: str, logsource: str = "category: process_creation", extra: str = "") -> str:
    return f"""
title: test rule
id: 00000000-0000-4000-8000-000000000001
status: test
logsource:
    product: windows
    {logsource}
detection:
{detection}
level: high
tags:
    - attack.execution
    - attack.t1059.001
{extra}
"""


def hits(detection: str, events: list[dict[str, Any]], **kw: Any) -> list[int]:
    """Indexes of the matching events; the same with every prefilter mode."""
    engine = SigmaEngine.from_yaml(rule(detection, **kw))
    assert not engine.unsupported, engine.unsupported
    got = [m.event_index for m in engine.evaluate(events)]
    engine.substring_index = False
    assert [m.event_index for m in engine.evaluate(events)] == got, "exact-only index differs"
    engine.use_index = False
    assert [m.event_index for m in engine.evaluate(events)] == got, "unindexed run differs"
    return got


# (detection, events, indexes that must match)
CASES: list[tuple[str, str, list[dict[str, Any]], list[int]]] = [
    (
        "equality is case-insensitive",
        "    sel:\n        Image: 'C:\\Windows\\System32\\cmd.exe'\n    condition: sel",
        [proc(Image="c:\\windows\\system32\\CMD.EXE"), proc(Image="C:\\Windows\\System32\\cmd.exe.bak")],
        [0],
    ),
    (
        "wildcards * and ?",
        "    sel:\n        Image: 'C:\\Users\\\\*\\Downloads\\\\?.exe'\n    condition: sel",  # \\* = backslash + wildcard
        [proc(Image="C:\\Users\\bob\\Downloads\\a.exe"), proc(Image="C:\\Users\\bob\\Downloads\\ab.exe")],
        [0],
    ),
    (
        "escaped wildcard is literal",
        "    sel:\n        CommandLine: 'echo \\*'\n    condition: sel",
        [proc(CommandLine="echo *"), proc(CommandLine="echo x")],
        [0],
    ),
    (
        "contains / startswith / endswith",
        "    sel:\n        CommandLine|contains: 'MiniDump'\n        Image|endswith: '\\rundll32.exe'\n"
        "        ParentImage|startswith: 'C:\\Windows\\'\n    condition: sel",
        [
            proc(
                CommandLine="x comsvcs.dll minidump 628",
                Image="C:\\W\\RUNDLL32.EXE",
                ParentImage="c:\\windows\\a",
            ),
            proc(CommandLine="x comsvcs.dll minidump 628", Image="C:\\W\\rundll32.exe", ParentImage="D:\\a"),
        ],
        [0],
    ),
    (
        "list is OR, contains|all is AND",
        "    sel_img:\n        Image|endswith: ['\\7z.exe', '\\rar.exe']\n"
        "    sel_cli:\n        CommandLine|contains|all: [' a ', '.docx']\n    condition: sel_img and sel_cli",
        [
            proc(Image="C:\\p\\7z.exe", CommandLine="7z a out.7z x.docx"),
            proc(Image="C:\\p\\rar.exe", CommandLine="rar a out.rar x.xlsx"),
            proc(Image="C:\\p\\zip.exe", CommandLine="zip a out x.docx"),
        ],
        [0],
    ),
    (
        "list of maps is OR of ANDs",
        "    sel:\n        - Image|endswith: '\\whoami.exe'\n        - OriginalFileName: 'systeminfo.exe'\n"
        "          CommandLine|contains: '/fo'\n    condition: sel",
        [
            proc(Image="C:\\w\\whoami.exe"),
            proc(OriginalFileName="SystemInfo.exe", CommandLine="systeminfo /fo csv"),
            proc(OriginalFileName="systeminfo.exe", CommandLine="systeminfo"),
        ],
        [0, 1],
    ),
    (
        "1 of selection* / not filter / parentheses",
        "    selection_a:\n        Image|endswith: '\\a.exe'\n    selection_b:\n        Image|endswith: '\\b.exe'\n"
        "    filter_main:\n        ParentImage|endswith: '\\good.exe'\n"
        "    condition: (1 of selection_*) and not filter_main",
        [
            proc(Image="x\\a.exe", ParentImage="x\\bad.exe"),
            proc(Image="x\\b.exe"),
            proc(Image="x\\b.exe", ParentImage="y\\GOOD.exe"),
            proc(Image="x\\c.exe"),
        ],
        [0, 1],
    ),
    (
        "all of them",
        "    s1:\n        Image|endswith: '\\a.exe'\n    s2:\n        User|contains: 'SYSTEM'\n    condition: all of them",
        [proc(Image="x\\a.exe", User="NT AUTHORITY\\SYSTEM"), proc(Image="x\\a.exe", User="bob")],
        [0],
    ),
    (
        "not of a missing field is true",
        "    sel:\n        Image|endswith: '\\a.exe'\n    filter:\n        Signed: 'true'\n    condition: sel and not filter",
        [proc(Image="x\\a.exe"), proc(Image="x\\a.exe", Signed=True)],
        [0],
    ),
    (
        "re is case-sensitive unless |i",
        "    s1:\n        CommandLine|re: '-[Ee]nc\\s+[A-Za-z0-9+/=]{8,}'\n"
        "    s2:\n        Image|re|i: 'POWERSHELL\\.EXE$'\n    condition: s1 and s2",
        [
            proc(CommandLine="powershell -enc SQBFAFgAIAAo", Image="C:\\p\\powershell.exe"),
            proc(CommandLine="powershell -ENC SQBFAFgAIAAo", Image="C:\\p\\powershell.exe"),
        ],
        [0],
    ),
    (
        "cased modifier",
        "    sel:\n        CommandLine|cased|contains: 'Invoke-Mimikatz'\n    condition: sel",
        [proc(CommandLine="Invoke-Mimikatz -x"), proc(CommandLine="invoke-mimikatz -x")],
        [0],
    ),
    (
        "windash matches - and / forms",
        "    sel:\n        CommandLine|windash|contains: ' -accepteula '\n    condition: sel",
        [
            proc(CommandLine="procdump /accepteula -ma lsass"),
            proc(CommandLine="procdump -accepteula -ma"),
            proc(CommandLine="procdump accepteula"),
        ],
        [0, 1],
    ),
    (
        "base64offset|contains",
        "    sel:\n        CommandLine|base64offset|contains: 'IEX'\n    condition: sel",
        [
            proc(CommandLine="powershell -e " + base64.b64encode(b"xIEX (New-Object)").decode()),
            proc(CommandLine="powershell -e " + base64.b64encode(b"Write-Host").decode()),
        ],
        [0],
    ),
    (
        "wide|base64offset|contains (UTF-16LE PowerShell -enc)",
        "    sel:\n        CommandLine|wide|base64offset|contains: 'DownloadString'\n    condition: sel",
        [
            proc(
                CommandLine="powershell -enc "
                + base64.b64encode("(x).DownloadString('h')".encode("utf-16le")).decode()
            )
        ],
        [0],
    ),
    (
        "exists",
        "    sel:\n        Image|endswith: '\\a.exe'\n        OriginalFileName|exists: false\n    condition: sel",
        [proc(Image="x\\a.exe"), proc(Image="x\\a.exe", OriginalFileName="a.exe")],
        [0],
    ),
    (
        "null matches a missing or null field",
        "    sel:\n        Image|endswith: '\\a.exe'\n        Description: null\n    condition: sel",
        [
            proc(Image="x\\a.exe"),
            proc(Image="x\\a.exe", Description=None),
            proc(Image="x\\a.exe", Description="d"),
        ],
        [0, 1],
    ),
    (
        "numeric lt / gte, string and hex values",
        "    sel:\n        TerminalSessionId|gte: 2\n        IntegrityLevelNumber|lt: 16\n    condition: sel",
        [
            proc(TerminalSessionId=2, IntegrityLevelNumber="0x0c"),
            proc(TerminalSessionId="1", IntegrityLevelNumber=3),
            proc(TerminalSessionId="3", IntegrityLevelNumber="not a number"),
        ],
        [0],
    ),
    (
        "fieldref",
        "    sel:\n        ParentImage|fieldref: Image\n    condition: sel",
        [proc(Image="C:\\a.exe", ParentImage="c:\\A.EXE"), proc(Image="C:\\a.exe", ParentImage="C:\\b.exe")],
        [0],
    ),
    (
        "numbers match string or int event values",
        "    sel:\n        LogonType: 10\n    condition: sel",
        [proc(LogonType="10"), proc(LogonType=10), proc(LogonType=3)],
        [0, 1],
    ),
    (
        "list-valued event field matches any element",
        "    sel:\n        Tags|contains: 'secret'\n    condition: sel",
        [proc(Tags=["public", "TOP-SECRET"]), proc(Tags=["public"])],
        [0],
    ),
    (
        "neq modifier negates",
        "    sel:\n        Image|endswith: '\\a.exe'\n        User|neq: 'SYSTEM'\n    condition: sel",
        [proc(Image="x\\a.exe", User="bob"), proc(Image="x\\a.exe", User="system")],
        [0],
    ),
    (
        "field names fall back to case-insensitive lookup",
        "    sel:\n        CommandLine|contains: 'vssadmin delete shadows'\n    condition: sel",
        [proc(commandline="vssadmin Delete Shadows /all")],
        [0],
    ),
]


@pytest.mark.parametrize("name,detection,events,expected", CASES, ids=[c[0] for c in CASES])
def test_golden(name: str, detection: str, events: list[dict[str, Any]], expected: list[int]) -> None:
    assert hits(detection, events) == expected


def test_cidr_on_network_connection() -> None:
    det = "    sel:\n        DestinationIp|cidr: ['10.0.0.0/8', 'fd00::/8']\n    condition: not sel"
    net = {"Channel": SYSMON, "EventID": 3}
    events = [
        {**net, "DestinationIp": "10.1.2.3"},
        {**net, "DestinationIp": "203.0.113.5"},
        {**net, "DestinationIp": "fd00::1"},
        proc(DestinationIp="203.0.113.5"),
    ]
    assert hits(det, events, logsource="category: network_connection") == [1]


def test_keyword_with_wildcard_is_unanchored() -> None:
    det = "    keywords:\n        - 'invoke-*mimikatz'\n    condition: keywords"
    events = [
        {"Channel": "System", "EventID": 1, "x": "run Invoke-Obfuscated-Mimikatz now"},
        {"Channel": "System", "EventID": 1, "x": "mimikatz"},
    ]
    engine = SigmaEngine.from_yaml(rule(det, logsource="service: system"))
    assert [m.event_index for m in engine.evaluate(events)] == [0]


def test_keywords_search_all_fields() -> None:
    det = (
        "    keywords:\n        - 'sekurlsa::logonpasswords'\n        - 'lsadump::'\n    condition: keywords"
    )
    events = [
        {"Channel": "Security", "EventID": 4688, "CommandLine": "mimikatz.exe SEKURLSA::LogonPasswords exit"},
        {"Channel": "System", "EventID": 7045, "ImagePath": "x lsadump::sam"},
        {"Channel": "Security", "EventID": 4688, "CommandLine": "notepad"},
    ]
    engine = SigmaEngine.from_yaml(rule(det, logsource="service: security"))
    assert [m.event_index for m in engine.evaluate(events)] == [0]  # System is not the security service
    engine = SigmaEngine.from_yaml(rule(det, logsource=""))  # product only: every windows channel
    assert [m.event_index for m in engine.evaluate(events)] == [0, 1]


def test_logsource_selects_events() -> None:
    det = "    sel:\n        Image|endswith: '\\rundll32.exe'\n    condition: sel"
    events = [
        proc(Image="C:\\rundll32.exe"),
        {"Channel": SYSMON, "EventID": 11, "Image": "C:\\rundll32.exe"},  # file_event, not process creation
        {"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\rundll32.exe"},  # 4688 aliasing
        {"Channel": "Security", "EventID": 4689, "Image": "C:\\rundll32.exe"},
    ]
    assert hits(det, events) == [0]  # raw dicts: no flattening, 4688 has no Image
    engine = SigmaEngine.from_yaml(rule(det))
    assert [m.event_index for m in engine.evaluate(events, flatten=True)] == [0, 2]


def test_eventid_in_detection_narrows_the_index() -> None:
    det = "    sel:\n        EventID: 4698\n        TaskContent|contains: 'powershell'\n    condition: sel"
    engine = SigmaEngine.from_yaml(rule(det, logsource="service: security"))
    assert engine.rules[0].keys == frozenset({("security", 4698)})
    events = [{"Channel": "Security", "EventID": "4698", "TaskContent": "<Exec>PowerShell</Exec>"}]
    assert [m.event_index for m in engine.evaluate(events)] == [0]


def test_match_carries_rule_metadata_and_matched_fields() -> None:
    det = "    sel:\n        Image|endswith: '\\cmd.exe'\n        ParentImage|endswith: '\\winword.exe'\n    condition: sel"
    engine = SigmaEngine.from_yaml(rule(det))
    ev = proc(
        Image="C:\\cmd.exe",
        ParentImage="C:\\WINWORD.EXE",
        EventRecordID=42,
        Computer="pc1",
        UtcTime="2025-01-01 00:00:00",
        User="bob",
    )
    (m,) = engine.evaluate([ev])
    assert (m.rule_id, m.title, m.level, m.record_id, m.computer) == (
        "00000000-0000-4000-8000-000000000001",
        "test rule",
        "high",
        42,
        "pc1",
    )
    assert m.tags == ("attack.execution", "attack.t1059.001")
    assert m.attack_techniques == ("T1059.001",)
    assert m.matched_fields == {"Image": "C:\\cmd.exe", "ParentImage": "C:\\WINWORD.EXE"}
    assert m.timestamp == "2025-01-01 00:00:00"


UNSUPPORTED = [
    (
        "aggregation",
        rule(
            "    sel:\n        EventID: 4625\n    condition: sel | count() by IpAddress > 10",
            logsource="service: security",
        ),
        "aggregation",
    ),
    (
        "linux",
        rule("    sel:\n        Image|endswith: '/bash'\n    condition: sel").replace(
            "product: windows", "product: linux"
        ),
        "product=linux",
    ),
    (
        "unknown service",
        rule("    sel:\n        a: b\n    condition: sel", logsource="service: nosuch"),
        "nosuch",
    ),
    ("unknown modifier", rule("    sel:\n        Image|nosuchmod: x\n    condition: sel"), "nosuchmod"),
    (
        "expand placeholder",
        rule("    sel:\n        Image|expand: '%System%\\x.exe'\n    condition: sel"),
        "placeholder",
    ),
    (
        "timestamp modifier",
        rule("    sel:\n        Image|endswith: x\n        UtcTime|hour: 3\n    condition: sel"),
        "timestamp",
    ),
    (
        "file_access",
        rule("    sel:\n        FileName: x\n    condition: sel", logsource="category: file_access"),
        "file_access",
    ),
]


@pytest.mark.parametrize("name,text,reason", UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
def test_unsupported_rules_are_reported_with_reason(name: str, text: str, reason: str) -> None:
    engine = SigmaEngine.from_yaml(text, "r.yml")
    assert not engine.rules
    (u,) = engine.unsupported
    path, why = u
    assert path == "r.yml" and reason in why


def test_correlation_rule_is_reported() -> None:
    text = (
        rule("    sel:\n        EventID: 4625\n    condition: sel", logsource="service: security").replace(
            "title: test rule", "title: base\nname: base_rule"
        )
        + """
---
title: many failures
id: 00000000-0000-4000-8000-000000000002
correlation:
    type: event_count
    rules: [base_rule]
    group-by: [IpAddress]
    timespan: 5m
    condition:
        gte: 10
"""
    )
    engine = SigmaEngine.from_yaml(text, "c.yml")
    assert len(engine.rules) == 1
    (u,) = engine.unsupported
    assert "correlation" in u.reason and u.rule_id == "00000000-0000-4000-8000-000000000002"


def test_bad_yaml_is_reported_not_raised() -> None:
    engine = SigmaEngine.from_yaml("title: [unclosed\n", "bad.yml")
    assert engine.rules == [] and engine.unsupported[0].rule_path == "bad.yml"


def test_user_rule_folder_with_builtin(tmp_path: Any) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mine.yml").write_text(
        rule("    sel:\n        Image|endswith: '\\zzz.exe'\n    condition: sel")
    )
    engine = SigmaEngine.from_paths([tmp_path], builtin=True)
    assert any(r.rule_id == "00000000-0000-4000-8000-000000000001" for r in engine.rules)
    assert len(engine.rules) > 20
    with pytest.raises(FileNotFoundError):
        SigmaEngine.from_paths([tmp_path / "nope"])
