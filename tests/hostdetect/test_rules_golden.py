"""Golden tests of the host rules: a few endpoint records in, the expected hits out, side by side."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from leaktrace.hostdetect import rules

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = "PC-042.ministry.local"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def proc(minutes: float, image: str, parent: str, cmd: str = "", guid: str = "g1", pguid: str = "g0") -> dict:
    return {"ts": at(minutes), "host": H, "event": "start", "image": image, "parent_image": parent,
            "command_line": cmd, "process_guid": guid, "parent_guid": pguid, "pid": 100,
            "source_file": "sysmon.json", "source_line": int(minutes * 10) + 1}


def fev(minutes: float, action: str, path: str, guid: str = "g1", image: str = r"C:\Temp\imp.exe",
        size: int = 1000, extra: dict | None = None) -> dict:
    return {"ts": at(minutes), "host": H, "action": action, "path": path, "process_guid": guid, "image": image,
            "size": size, "extra": json.dumps(extra or {})}


def test_staging_many_documents_read_then_an_archive_by_a_child() -> None:
    procs = [proc(0, r"C:\Temp\imp.exe", r"C:\Windows\explorer.exe", guid="g1"),
             proc(30, r"C:\Program Files\7-Zip\7z.exe", r"C:\Temp\imp.exe", guid="g2", pguid="g1")]
    reads = [fev(10 + i, "read", rf"\\fs\share\doc{i}.docx") for i in range(7)]
    user_reads = [fev(12, "read", rf"\\fs\share\mine{i}.xlsx", guid="u1", image="excel.exe") for i in range(9)]
    archive = fev(31, "create", r"C:\Users\Public\x.7z", guid="g2", image="7z.exe", size=5_000_000)
    (hit,) = rules.staging(reads + user_reads + [archive], procs)
    assert (hit.rule, hit.host, hit.first_ts, hit.last_ts) == ("staging", H, at(10), at(31))
    assert hit.evidence["documents"] == 7 and hit.evidence["archive"] == r"C:\Users\Public\x.7z"
    assert hit.score == 0.45 + 0.01 * 2 and hit.technique == "T1074.001"


def test_staging_needs_enough_documents_and_a_close_archive() -> None:
    procs = [proc(0, r"C:\Temp\imp.exe", "explorer.exe")]
    few = [fev(10 + i, "read", rf"\\fs\share\doc{i}.pdf") for i in range(4)]
    assert rules.staging(few + [fev(20, "create", r"C:\t\a.zip")], procs) == []
    many = [fev(10 + i, "read", rf"\\fs\share\doc{i}.pdf") for i in range(6)]
    assert rules.staging(many + [fev(10 + 6 + 180, "create", r"C:\t\a.zip")], procs) == []  # 3 h later
    assert len(rules.staging(many + [fev(20, "create", r"C:\t\a.zip")], procs)) == 1


def test_user_execution_from_mail_and_downloads_but_not_program_files() -> None:
    records = [
        proc(1, r"C:\Users\a\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\Q1\invoice.exe",
             r"C:\Program Files\Microsoft Office\OUTLOOK.EXE", guid="a"),
        proc(2, r"C:\Users\a\Downloads\setup.exe", r"C:\Windows\explorer.exe", guid="b"),
        proc(3, r"C:\Program Files\App\app.exe", r"C:\Windows\explorer.exe", guid="c"),
        proc(4, r"C:\Program Files\Microsoft Office\WINWORD.EXE", r"C:\Program Files\Microsoft Office\OUTLOOK.EXE",
             guid="d"),
    ]
    hits = rules.user_execution(records)
    assert [(h.score, h.summary.split(":")[0]) for h in hits] == [
        (0.55, "mail attachment executed"), (0.4, "program run from a download or temporary folder")]


def test_the_same_start_from_sysmon_and_4688_is_one_hit() -> None:
    a = proc(2, r"C:\Users\a\Downloads\setup.exe", "explorer.exe", guid="b")
    b = {**a, "process_guid": None, "ts": a["ts"] + timedelta(milliseconds=20)}
    assert len(rules.user_execution([a, b])) == 1


def test_office_or_browser_starting_a_shell() -> None:
    records = [
        proc(1, r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
             r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE", "powershell -enc AAAA", guid="a"),
        proc(2, r"C:\Windows\System32\cmd.exe", r"C:\Program Files\Google\Chrome\Application\chrome.exe", guid="b"),
        proc(3, r"C:\Windows\System32\cmd.exe", r"C:\Windows\explorer.exe", guid="c"),
        proc(4, r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE",
             r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE", guid="d"),
    ]
    hits = rules.office_shell(records)
    assert [(h.score, h.evidence["image"].rsplit("\\", 1)[-1]) for h in hits] == [
        (0.65, "powershell.exe"), (0.5, "cmd.exe")]


def test_credential_dumping_command_file_and_lsass_access() -> None:
    cmd = r"rundll32.exe C:\windows\System32\comsvcs.dll MiniDump 628 C:\Windows\Temp\x.dmp full"
    procs = [proc(1, r"C:\Windows\System32\rundll32.exe", "cmd.exe", cmd, guid="r"),
             proc(2, r"C:\Windows\System32\notepad.exe", "cmd.exe", r"notepad C:\lsass-notes.txt", guid="n")]
    files = [fev(1, "create", r"C:\Windows\Temp\x.dmp", guid="r", image="rundll32.exe",
                 extra={"inferred_from": "command_line", "rule": "comsvcs-minidump"}),
             fev(2, "create", r"C:\Temp\app-crash.dmp", guid="w", image="werfault.exe")]
    lsass = {"ts": at(3), "host": H, "event_id": 10, "data": json.dumps(
        {"SourceImage": r"C:\Temp\imp.exe", "TargetImage": r"C:\Windows\system32\lsass.exe",
         "GrantedAccess": "0x1410", "SourceProcessGUID": "{imp}"})}
    query_only = {"ts": at(4), "host": H, "event_id": 10, "data": json.dumps(
        {"SourceImage": r"C:\Temp\tool.exe", "TargetImage": r"C:\Windows\system32\lsass.exe",
         "GrantedAccess": "0x1000"})}
    defender = {"ts": at(5), "host": H, "event_id": 10, "data": json.dumps(
        {"SourceImage": r"C:\ProgramData\Microsoft\Windows Defender\MsMpEng.exe",
         "TargetImage": r"C:\Windows\system32\lsass.exe", "GrantedAccess": "0x1fffff"})}
    hits = rules.credential_dumping(procs, files, [lsass, query_only, defender])
    assert sorted((h.key.split("|")[0], h.score) for h in hits) == [
        ("access", 0.7), ("cmd", 0.85), ("file", 0.85)]
    assert all(h.technique == "T1003.001" for h in hits)


def test_repeated_lsass_reads_by_one_process_are_one_hit() -> None:
    ev = {"host": H, "event_id": 10, "data": json.dumps(
        {"SourceImage": r"C:\Temp\imp.exe", "TargetImage": r"C:\Windows\system32\lsass.exe",
         "GrantedAccess": "0x1010", "SourceProcessGUID": "{imp}"})}
    (hit,) = rules.credential_dumping([], [], [{**ev, "ts": at(1)}, {**ev, "ts": at(9)}])
    assert (hit.first_ts, hit.last_ts, hit.evidence["count"]) == (at(1), at(9), 2)
