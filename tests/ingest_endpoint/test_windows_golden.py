"""Golden tests: a few Windows events in, the normalised rows out, side by side, per mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from leaktrace.ingest.endpoint.winjson import read_windows_json
from tests.ingest_endpoint.helpers import rows, run_lines, subset

SYSMON = "Microsoft-Windows-Sysmon/Operational"
HOST = "PRD01.pandalab.com"


def flat(event_id: int, channel: str, ts: str = "2023-08-18T09:00:03.975Z", **fields: Any) -> dict[str, Any]:
    """An OTRF / NXLog-style flat event."""
    source = "Microsoft-Windows-Sysmon" if "Sysmon" in channel else "Microsoft-Windows-Security-Auditing"
    return {"SourceName": source, "Channel": channel, "Hostname": HOST, "@timestamp": ts, "TimeCreated": ts,
            "EventID": event_id, "Message": "rendered text", **fields}


def winlogbeat(event_id: int, channel: str, ts: str = "2023-08-18T09:00:03.975Z", **fields: Any) -> dict[str, Any]:
    source = "Microsoft-Windows-Sysmon" if "Sysmon" in channel else "Microsoft-Windows-Security-Auditing"
    return {"@timestamp": ts, "host": {"name": "prd01"}, "event": {"code": str(event_id)},
            "winlog": {"event_id": str(event_id), "channel": channel, "provider_name": source, "computer_name": HOST,
                       "record_id": 4242, "event_data": fields}}


# (table, event, expected row) -- expected lists the columns that matter; extra: the keys listed
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("sysmon-1", "process", flat(
        1, SYSMON, UtcTime="2023-08-18 16:00:03.919", ProcessGuid="{57BE2C82-9583-64DF-4509-000000000600}",
        ProcessId="7580", Image="C:\\Windows\\System32\\rundll32.exe",
        CommandLine='"C:\\Windows\\System32\\rundll32.exe" C:\\windows\\System32\\comsvcs.dll MiniDump 628 '
                    "C:\\Windows\\Temp\\lsass-comsvcs.dmp full",
        CurrentDirectory="C:\\Windows\\system32\\", User="NT AUTHORITY\\SYSTEM",
        Hashes="SHA1=AA,MD5=BB,SHA256=ABCDEF0123,IMPHASH=CC", ParentProcessGuid="{57be2c82-9581-64df-4409-000000000600}",
        ParentProcessId="6412", ParentImage="C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        IntegrityLevel="System"),
     {"ts": "2023-08-18T09:00:03.975000Z", "host": HOST, "event": "start", "pid": 7580,
      "process_guid": "57be2c82-9583-64df-4509-000000000600", "image": "C:\\Windows\\System32\\rundll32.exe",
      "parent_pid": 6412, "parent_guid": "57be2c82-9581-64df-4409-000000000600",
      "parent_image": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
      "user": "NT AUTHORITY\\SYSTEM", "sha256": "abcdef0123", "source_line": 1,
      "extra": {"event_id": 1, "channel": SYSMON, "UtcTime": "2023-08-18 16:00:03.919", "IntegrityLevel": "System",
                "ts_raw": "2023-08-18T09:00:03.975Z"}}),
    ("security-4688", "process", flat(
        4688, "Security", SubjectUserName="PRD01$", SubjectDomainName="PANDALAB", NewProcessId="0x1d9c",
        NewProcessName="C:\\Windows\\System32\\rundll32.exe", CommandLine="rundll32.exe x.dll,a", ProcessId="0x190c",
        ParentProcessName="C:\\Windows\\System32\\cmd.exe", TargetUserName="-", TokenElevationType="%%1936"),
     {"host": HOST, "event": "start", "pid": 0x1D9C, "image": "C:\\Windows\\System32\\rundll32.exe",
      "command_line": "rundll32.exe x.dll,a", "parent_pid": 0x190C, "parent_image": "C:\\Windows\\System32\\cmd.exe",
      "user": "PANDALAB\\PRD01$", "extra": {"event_id": 4688, "TokenElevationType": "%%1936"}}),
    ("sysmon-5", "process", flat(5, SYSMON, ProcessId="7580", ProcessGuid="{A-B}", Image="C:\\x.exe"),
     {"event": "end", "pid": 7580, "process_guid": "a-b", "image": "C:\\x.exe"}),
    ("security-4689", "process", flat(4689, "Security", ProcessId="0x10", ProcessName="C:\\x.exe"),
     {"event": "end", "pid": 16, "image": "C:\\x.exe"}),
    ("sysmon-11", "file_event", flat(
        11, SYSMON, ProcessGuid="{g}", ProcessId="4692", Image="C:\\Edge\\msedge.exe",
        TargetFilename="C:\\Users\\u\\Downloads\\winx64_payload.exe", CreationUtcTime="2023-08-09 05:33:07.469",
        User="PANDALAB\\stevie.marie"),
     {"host": HOST, "pid": 4692, "process_guid": "g", "image": "C:\\Edge\\msedge.exe", "action": "create",
      "path": "C:\\Users\\u\\Downloads\\winx64_payload.exe", "user": "PANDALAB\\stevie.marie",
      "extra": {"CreationUtcTime": "2023-08-09 05:33:07.469"}}),
    ("sysmon-23", "file_event", flat(23, SYSMON, ProcessId="1", Image="C:\\del.exe", TargetFilename="C:\\d\\a.docx",
                                     Hashes="SHA256=FF00", Archived="true"),
     {"action": "delete", "path": "C:\\d\\a.docx", "sha256": "ff00", "extra": {"Archived": "true"}}),
    ("sysmon-26", "file_event", flat(26, SYSMON, ProcessId="1", Image="C:\\del.exe", TargetFilename="C:\\d\\b.docx"),
     {"action": "delete", "path": "C:\\d\\b.docx"}),
    ("sysmon-2", "file_event", flat(2, SYSMON, ProcessId="1", Image="C:\\t.exe", TargetFilename="C:\\d\\c.docx",
                                    CreationUtcTime="2020-01-01 00:00:00.000",
                                    PreviousCreationUtcTime="2023-08-18 10:00:00.000"),
     {"action": "time-change", "path": "C:\\d\\c.docx",
      "extra": {"PreviousCreationUtcTime": "2023-08-18 10:00:00.000"}}),
    ("sysmon-15", "file_event", flat(15, SYSMON, Image="C:\\Edge\\msedge.exe",
                                     TargetFilename="C:\\Users\\u\\Downloads\\p.exe:Zone.Identifier",
                                     Contents="[ZoneTransfer]  ZoneId=3  HostUrl=http://10.0.5.13/p.exe"),
     {"action": "create", "path": "C:\\Users\\u\\Downloads\\p.exe:Zone.Identifier"}),
    ("security-4663-read", "file_event", flat(
        4663, "Security", SubjectUserName="taro", SubjectDomainName="MOF", ObjectServer="Security",
        ObjectType="File", ObjectName="\\\\fileserver\\share\\budget.xlsx", AccessList="%%4416", AccessMask="0x1",
        ProcessId="0x1f40", ProcessName="C:\\Office16\\EXCEL.EXE"),
     {"pid": 0x1F40, "image": "C:\\Office16\\EXCEL.EXE", "action": "read", "path": "\\\\fileserver\\share\\budget.xlsx",
      "user": "MOF\\taro", "extra": {"AccessMask": "0x1"}}),
    ("security-4663-write", "file_event", flat(4663, "Security", ObjectType="File", ObjectName="C:\\a.txt",
                                               AccessMask="0x6", ProcessId="0x4", ProcessName="C:\\n.exe"),
     {"action": "write", "path": "C:\\a.txt"}),
    ("security-4663-delete", "file_event", flat(4663, "Security", ObjectType="File", ObjectName="C:\\a.txt",
                                                AccessMask="0x10000", ProcessId="0x4", ProcessName="C:\\n.exe"),
     {"action": "delete"}),
    ("security-4663-accesslist", "file_event", flat(4663, "Security", ObjectType="File", ObjectName="C:\\b.txt",
                                                    AccessList="%%4417\n\t\t\t\t", ProcessId="0x4"),
     {"action": "write", "path": "C:\\b.txt"}),
    ("security-4663-accesses-text", "file_event", flat(4663, "Security", ObjectType="File", ObjectName="C:\\d.txt",
                                                       Accesses="DELETE\n\t\t\t\t", ProcessId="0x4"),
     {"action": "delete", "path": "C:\\d.txt"}),
    ("security-4656", "file_event", flat(4656, "Security", ObjectType="File", ObjectName="C:\\c.txt",
                                         AccessMask="0x120089", ProcessId="0x4", ProcessName="C:\\e.exe"),
     {"action": "read", "path": "C:\\c.txt", "extra": {"event_id": 4656}}),
    ("security-4656-audit-failure", "win_event", flat(4656, "Security", Keywords="0x8010000000000000",
                                                      ObjectType="File", ObjectName="C:\\secret.docx",
                                                      AccessMask="0x2", ProcessId="0x4"),
     {"event_id": 4656, "data": {"ObjectName": "C:\\secret.docx"}}),
    ("security-4663-process-object", "win_event", flat(
        4663, "Security", ObjectType="Process", ObjectName="\\Device\\HarddiskVolume2\\Windows\\System32\\lsass.exe",
        AccessMask="0x10", ProcessId="0x1e0c", SubjectUserName="pedro", SubjectDomainName="PANDALAB"),
     {"channel": "Security", "event_id": 4663, "user": "PANDALAB\\pedro",
      "data": {"ObjectType": "Process", "AccessMask": "0x10"}}),
    ("security-5140", "file_event", flat(5140, "Security", SubjectUserName="taro", SubjectDomainName="MOF",
                                         ShareName="\\\\*\\Docs", ShareLocalPath="\\??\\D:\\Docs",
                                         IpAddress="10.1.2.3", IpPort="50123", AccessMask="0x1"),
     {"action": "share-access", "path": "\\\\PRD01\\Docs", "user": "MOF\\taro",
      "extra": {"IpAddress": "10.1.2.3", "ShareLocalPath": "\\??\\D:\\Docs"}}),
    ("security-5145", "file_event", flat(5145, "Security", SubjectUserName="taro", SubjectDomainName="MOF",
                                         ShareName="\\\\*\\Docs", RelativeTargetName="2023\\plan.docx",
                                         IpAddress="10.1.2.3", AccessMask="0x120089"),
     {"action": "share-access", "path": "\\\\PRD01\\Docs\\2023\\plan.docx", "extra": {"AccessMask": "0x120089"}}),
    ("sysmon-3", "endpoint_conn", flat(
        3, SYSMON, ts="2023-08-18T08:58:00.100Z", UtcTime="2023-08-18 15:57:17.000", ProcessGuid="{p}",
        ProcessId="7092", Image="C:\\Users\\p\\payload.exe", User="PANDALAB\\pedro.gustavo", Protocol="tcp",
        Initiated="true", SourceIp="192.168.1.42", SourceHostname="-", SourcePort="49845",
        DestinationIp="10.0.5.13", DestinationHostname="-", DestinationPort="5678"),
     {"ts": "2023-08-18T08:58:00.100000Z", "pid": 7092, "process_guid": "p", "image": "C:\\Users\\p\\payload.exe",
      "user": "PANDALAB\\pedro.gustavo", "proto": "tcp", "src_ip": "192.168.1.42", "src_port": 49845,
      "dst_ip": "10.0.5.13", "dst_port": 5678, "extra": {"Initiated": "true", "UtcTime": "2023-08-18 15:57:17.000"}}),
    ("security-5156", "endpoint_conn", flat(
        5156, "Security", ProcessID="1234", Application="\\device\\harddiskvolume2\\x.exe", Direction="%%14593",
        SourceAddress="192.168.1.42", SourcePort="50000", DestAddress="10.0.5.13", DestPort="443", Protocol="6"),
     {"pid": 1234, "image": "\\device\\harddiskvolume2\\x.exe", "proto": "tcp", "src_ip": "192.168.1.42",
      "src_port": 50000, "dst_ip": "10.0.5.13", "dst_port": 443, "extra": {"Direction": "%%14593"}}),
    ("security-5156-inbound", "endpoint_conn", flat(
        5156, "Security", ProcessID="4", Application="System", Direction="%%14592", SourceAddress="192.168.1.42",
        SourcePort="445", DestAddress="192.168.1.4", DestPort="50123", Protocol="6"),
     {"src_ip": "192.168.1.4", "src_port": 50123, "dst_ip": "192.168.1.42", "dst_port": 445}),
    ("sysmon-22", "dns", flat(22, SYSMON, ProcessId="4976", Image="C:\\Edge\\msedge.exe", QueryName="evil.example",
                              QueryStatus="0", QueryResults="::ffff:10.0.5.13;", User="PANDALAB\\pupy.godoy"),
     {"query": "evil.example", "rcode": "NOERROR", "answers": "::ffff:10.0.5.13;",
      "extra": {"host": HOST, "Image": "C:\\Edge\\msedge.exe", "ProcessId": "4976"}}),
    ("security-4624", "assets", flat(4624, "Security", TargetUserName="taro", TargetDomainName="MOF",
                                     LogonType="3", WorkstationName="PC-17", IpAddress="10.1.2.3", IpPort="50000"),
     {"ip": "10.1.2.3", "host_name": "PC-17", "user": "taro", "evidence": f"win-4624 logon type 3 to {HOST}"}),
    ("powershell-4104", "win_event", {
        "SourceName": "Microsoft-Windows-PowerShell", "Channel": "Microsoft-Windows-PowerShell/Operational",
        "Hostname": HOST, "@timestamp": "2023-08-18T09:00:03.975Z", "EventID": 4104, "Message": "Creating...",
        "ScriptBlockText": "IEX (New-Object Net.WebClient)", "ScriptBlockId": "{x}"},
     {"host": HOST, "channel": "Microsoft-Windows-PowerShell/Operational", "provider": "Microsoft-Windows-PowerShell",
      "event_id": 4104, "data": {"ScriptBlockText": "IEX (New-Object Net.WebClient)"}}),
]


@pytest.mark.parametrize(("label", "table", "event", "expected"), CASES, ids=[c[0] for c in CASES])
def test_mapping(label: str, table: str, event: dict[str, Any], expected: dict[str, Any], tmp_path: Path) -> None:
    result, tables = run_lines(read_windows_json, tmp_path, [json.dumps(event)])
    assert result.bad_count == 0
    got = rows(tables, table)
    assert got, f"no {table} row; tables: {result.rows}"
    assert subset(got[0], expected) == expected


def test_sysmon1_infers_the_dump_file() -> None:
    """The LSASS dump named by comsvcs MiniDump appears as a file created by rundll32 (inferred)."""
    event = CASES[0][2]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        _, tables = run_lines(read_windows_json, Path(d), [json.dumps(event)])
    files = rows(tables, "file_event")
    assert [(f["action"], f["path"], f["image"], f["extra"]["inferred_from"], f["extra"]["rule"]) for f in files] == [
        ("create", "C:\\Windows\\Temp\\lsass-comsvcs.dmp", "C:\\Windows\\System32\\rundll32.exe", "command_line",
         "comsvcs-minidump")]


def test_security_4624_is_also_kept_whole(tmp_path: Path) -> None:
    _, tables = run_lines(read_windows_json, tmp_path, [json.dumps(CASES[-2][2])])
    assert [r["event_id"] for r in rows(tables, "win_event")] == [4624]


def test_local_logons_give_no_asset(tmp_path: Path) -> None:
    ev = flat(4624, "Security", TargetUserName="SYSTEM", LogonType="5", IpAddress="-")
    _, tables = run_lines(read_windows_json, tmp_path, [json.dumps(ev)])
    assert "assets" not in tables


def test_sysmon3_gives_local_address_evidence_once(tmp_path: Path) -> None:
    ev = CASES[[c[0] for c in CASES].index("sysmon-3")][2]
    _, tables = run_lines(read_windows_json, tmp_path, [json.dumps(ev)] * 3)
    assert [(r["ip"], r["host_name"]) for r in rows(tables, "assets")] == [("192.168.1.42", HOST)]
    assert tables["endpoint_conn"].num_rows == 3


WLB_PAIRS = [c for c in CASES if c[2].get("EventID") in (1, 3, 11, 4663, 4688, 5145)]


@pytest.mark.parametrize(("label", "table", "event", "expected"), WLB_PAIRS, ids=[c[0] for c in WLB_PAIRS])
def test_winlogbeat_and_flat_give_the_same_rows(label: str, table: str, event: dict[str, Any],
                                                expected: dict[str, Any], tmp_path: Path) -> None:
    fields = {k: v for k, v in event.items()
              if k not in ("SourceName", "Channel", "Hostname", "@timestamp", "TimeCreated", "EventID", "Message")}
    wlb = winlogbeat(event["EventID"], event["Channel"], event["@timestamp"], **fields)
    _, t_flat = run_lines(read_windows_json, tmp_path, [json.dumps(event)], "flat.json")
    _, t_wlb = run_lines(read_windows_json, tmp_path, [json.dumps(wlb)], "wlb.json")
    a, b = rows(t_flat, table), rows(t_wlb, table)
    for r in b:
        if "extra" in r:
            r["extra"].pop("record_id", None)
        r.pop("record_id", None)
    assert a == b


def test_simulator_shape(tmp_path: Path) -> None:
    """The simulator's flat Sysmon-style JSON (Computer, UtcTime, @timestamp, numeric ids)."""
    import numpy as np

    sim = pytest.importorskip("leaktrace.sim.endpoint")
    HostLog = sim.HostLog  # noqa: N806

    log = HostLog("pc01.ministry.local", "taro", "10.1.0.5", np.random.default_rng(1))
    procs = log.logon(1_700_000_000_000_000, "C:\\Edge\\msedge.exe")
    log.connect(1_700_000_100_000_000, procs["browser"], 50000, "203.0.113.9", 443, "up.example")
    log.open_document(1_700_000_200_000_000, "dept/plan.docx", "docx")
    _, tables = run_lines(read_windows_json, tmp_path, log.lines(), "pc01.jsonl")
    procs_rows = rows(tables, "process")
    assert len(procs_rows) == 6 and {r["host"] for r in procs_rows} == {"pc01.ministry.local"}
    conn = rows(tables, "endpoint_conn")[0]
    assert (conn["src_ip"], conn["dst_ip"], conn["dst_port"], conn["dst_host"]) == ("10.1.0.5", "203.0.113.9", 443,
                                                                                    "up.example")
    reads = [r for r in rows(tables, "file_event") if r["action"] == "read" and "inferred_from" not in r["extra"]]
    assert [r["path"] for r in reads] == ["\\\\fileserver\\share\\dept\\plan.docx"]
    assert reads[0]["image"].endswith("WINWORD.EXE")


def test_bad_lines_are_quarantined_with_their_numbers(tmp_path: Path) -> None:
    good = json.dumps(CASES[0][2])
    lines = [good, "{not json", json.dumps({"hello": "world"}), "", good,
             json.dumps({"EventID": 1, "Channel": SYSMON, "Hostname": HOST, "@timestamp": "yesterday"}), good]
    result, tables = run_lines(read_windows_json, tmp_path, lines)
    assert result.bad_count == 3
    assert [(b.line, b.reason.split(":")[0]) for b in result.bad] == [
        (2, "not JSON"), (3, "not a Windows event (no EventID / winlog / Event.System)"),
        (6, "no readable event time")]
    assert tables["process"].num_rows == 3
    assert tables["process"].column("source_line").to_pylist() == [1, 5, 7]


def test_pretty_printed_stream_and_array(tmp_path: Path) -> None:
    events = [CASES[0][2], CASES[1][2]]
    stream = tmp_path / "stream.json"
    stream.write_text("\n".join(json.dumps(e, indent=2) for e in events), encoding="utf-8")
    array = tmp_path / "array.json"
    array.write_text(json.dumps(events, indent=1), encoding="utf-8")
    from tests.ingest_endpoint.helpers import run_reader

    r1, t1 = run_reader(read_windows_json, stream)
    r2, t2 = run_reader(read_windows_json, array)
    assert r1.bad_count == r2.bad_count == 0
    assert t1["process"].num_rows == t2["process"].num_rows == 2
    # the second object starts on the line after the first one's last line
    assert t1["process"].column("source_line").to_pylist() == [1, len(json.dumps(events[0], indent=2).split("\n")) + 1]


def test_naive_event_time_is_taken_as_utc(tmp_path: Path) -> None:
    """NXLog EventTime (collector local time, no zone) is read as UTC; the raw text stays in extra."""
    ev = {"EventTime": "2019-05-14 09:53:00", "Hostname": "WS1", "EventID": 1, "SourceName": "Microsoft-Windows-Sysmon",
          "Channel": SYSMON, "EventType": "INFO", "Image": "C:\\a.exe", "ProcessId": 5, "RecordNumber": 77}
    _, tables = run_lines(read_windows_json, tmp_path, [json.dumps(ev)])
    (row,) = rows(tables, "process")
    assert row["ts"] == "2019-05-14T09:53:00Z"
    assert row["extra"]["ts_raw"] == "2019-05-14 09:53:00" and row["extra"]["record_id"] == 77
    assert "EventType" not in row["extra"]


def test_elasticsearch_hits_are_unwrapped(tmp_path: Path) -> None:
    event = CASES[0][2]
    fields = {k: v for k, v in event.items()
              if k not in ("SourceName", "Channel", "Hostname", "@timestamp", "TimeCreated", "EventID", "Message")}
    hit = {"_index": "winlogbeat-2023.08.18", "_id": "x", "_source": winlogbeat(1, SYSMON, event["@timestamp"], **fields)}
    result, tables = run_lines(read_windows_json, tmp_path, [json.dumps(hit)])
    assert result.bad_count == 0
    assert subset(rows(tables, "process")[0], {"pid": 7580, "host": HOST}) == {"pid": 7580, "host": HOST}


def test_ingest_paths_quarantines_bad_lines_with_numbers(tmp_path: Path) -> None:
    import leaktrace.ingest.endpoint  # noqa: F401  (registration)
    from leaktrace.engine import Engine
    from leaktrace.ingest import ingest_paths
    from leaktrace.lake import Lake
    from leaktrace.workspace import Workspace

    src = tmp_path / "host.jsonl"
    src.write_text("\n".join([json.dumps(CASES[0][2]), "{broken", json.dumps(CASES[1][2])]) + "\n", encoding="utf-8")
    ws = Workspace.init(tmp_path / "ws")
    summary = ingest_paths(ws, [src])
    (outcome,) = summary.sources
    assert (outcome.status, outcome.format, outcome.quarantined) == ("ingested", "windows-json", 1)
    assert outcome.bad_lines[0][0] == 2
    eng = Engine.for_lake(Lake(ws.lake_dir))
    q = eng.table("quarantine").to_pyarrow().to_pylist()
    assert [(r["source_line"], r["raw"].strip(), r["source_format"]) for r in q] == [(2, "{broken", "windows-json")]
    assert eng.table("process").count().execute() == 2


def test_dns_query_gets_the_host_address_once_known(tmp_path: Path) -> None:
    names = [c[0] for c in CASES]
    s3, s22 = CASES[names.index("sysmon-3")][2], CASES[names.index("sysmon-22")][2]
    _, tables = run_lines(read_windows_json, tmp_path, [json.dumps(s22), json.dumps(s3), json.dumps(s22)])
    assert [r.get("src_ip") for r in rows(tables, "dns")] == [None, "192.168.1.42"]
