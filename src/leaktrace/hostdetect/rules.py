"""Host behaviour rules: pure functions over endpoint rows (dicts of the normalised tables) returning hits.

* :func:`staging` — one process (tree) reads many documents, then writes an archive (ATT&CK T1074, T1560).
* :func:`user_execution` — a program started from a mail attachment folder, Downloads or Temp (T1204.002).
* :func:`office_shell` — Office, a PDF reader or a browser starting a shell or script host (T1059, T1566).
* :func:`credential_dumping` — LSASS memory read (Sysmon 10 with a reading access mask), an LSASS dump file,
  or a dumping tool's command line (T1003.001).

Every threshold is a field of the rule's parameters (see :mod:`leaktrace.hostdetect.detectors`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Row = dict[str, Any]

DOCUMENT_EXT = (".doc", ".docx", ".docm", ".xls", ".xlsx", ".xlsm", ".ppt", ".pptx", ".pdf", ".txt", ".csv",
                ".rtf", ".odt", ".ods", ".odp", ".jtd", ".xdw", ".msg", ".eml", ".html", ".htm", ".xml", ".md")
ARCHIVE_EXT = (".zip", ".7z", ".rar", ".cab", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".lzh")
READ = {"read", "open", "copy", "share-access"}
WRITE = {"create", "write", "rename"}
OFFICE = {"winword.exe", "excel.exe", "powerpnt.exe", "outlook.exe", "msaccess.exe", "mspub.exe", "onenote.exe",
          "visio.exe", "acrord32.exe", "acrobat.exe", "foxitreader.exe", "hwp.exe", "taro.exe"}
BROWSERS = {"chrome.exe", "msedge.exe", "firefox.exe", "iexplore.exe", "brave.exe", "opera.exe"}
SHELLS = {"cmd.exe", "powershell.exe", "pwsh.exe", "wscript.exe", "cscript.exe", "mshta.exe", "rundll32.exe",
          "regsvr32.exe", "bitsadmin.exe", "certutil.exe", "wmic.exe", "schtasks.exe", "msiexec.exe",
          "bash", "sh", "python.exe", "hh.exe", "forfiles.exe", "installutil.exe", "msbuild.exe"}
USER_DROP_DIRS = (r"\content.outlook", r"\inetcache\content.outlook", r"\olk", r"\downloads",
                  r"\appdata\local\temp", r"\windows\temp", r"\users\public")
DUMP_TOOLS = re.compile(
    r"(comsvcs(\.dll)?[\"',\s]+#?(minidump|\+?24))|(procdump(64)?(\.exe)?\b.*\b(-ma|/ma|-mm)\b.*lsass)|"
    r"(sekurlsa::)|(lsadump::)|(\bnanodump\b)|(out-minidump)|(\bsqldumper\.exe\b.*\b0x0110\b)",
    re.IGNORECASE,
)
# PROCESS_VM_READ (0x10) is what reading credentials needs; 0x1000 alone (QUERY_LIMITED) is routine
VM_READ = 0x10


def basename(path: str | None) -> str:
    if not path:
        return ""
    return path.replace("\\", "/").rsplit("/", 1)[-1].casefold()


def ref(row: Row) -> str | None:
    src, line = row.get("source_file"), row.get("source_line")
    return f"{src}:{line}" if src and line is not None else (str(src) if src else None)


@dataclass
class HostHit:
    """One behaviour seen on one host: what, when, how strong, and the records."""

    rule: str
    host: str
    first_ts: datetime
    last_ts: datetime
    score: float
    summary: str
    technique: str
    key: str  # what makes the hit unique on the host (process, file, rule id)
    evidence: dict[str, Any] = field(default_factory=dict)
    records: list[str] = field(default_factory=list)
    procs: list[str] = field(default_factory=list)  # process GUIDs (or "pid:image") of the acting processes


def proc_key(row: Row) -> str:
    """A process's identity: its GUID, else ``pid:image`` (Security 4688/4663 rows carry no GUID)."""
    return str(row.get("process_guid") or f"{row.get('pid')}:{basename(row.get('image'))}")


def _start_key(row: Row) -> str:
    """A process start's identity across its Sysmon 1 and Security 4688 records (same image, same second)."""
    ts = row.get("ts")
    second = ts.strftime("%Y%m%dT%H%M%S") if isinstance(ts, datetime) else str(ts)
    return f"{(row.get('image') or '').casefold()}|{second}"


def staging(file_events: Iterable[Row], process: Iterable[Row], *, min_documents: int = 5,
            window: timedelta = timedelta(hours=2), base_score: float = 0.45,
            per_document: float = 0.01, max_score: float = 0.7) -> list[HostHit]:
    """A process tree that read at least ``min_documents`` distinct documents and then, within ``window`` of
    the last of them, wrote an archive. Reads by a child count for its parent tree (7z started by the implant).
    """
    parent: dict[str, str] = {}
    alias: dict[str, str] = {}  # "pid:image" -> GUID: Security 4663 reads carry no GUID, Sysmon 11 writes do
    for p in process:
        if p.get("process_guid") and p.get("parent_guid"):
            parent[p["process_guid"]] = p["parent_guid"]
        if p.get("process_guid") and p.get("pid") is not None and (p.get("event") or "start") == "start":
            alias.setdefault(f"{p.get('pid')}:{basename(p.get('image'))}", p["process_guid"])

    def roots(key: str) -> list[str]:
        key = alias.get(key, key)
        out, seen = [key], {key}
        while key in parent and parent[key] not in seen:
            key = parent[key]
            seen.add(key)
            out.append(key)
        return out

    reads: dict[tuple[str, str], dict[str, Row]] = defaultdict(dict)
    archives: list[Row] = []
    for f in file_events:
        action, path = f.get("action") or "", (f.get("path") or "")
        low = path.casefold()
        if action in READ and low.endswith(DOCUMENT_EXT):
            for k in roots(proc_key(f)):
                reads[(f.get("host") or "", k)].setdefault(low, f)
        elif action in WRITE and low.endswith(ARCHIVE_EXT):
            archives.append(f)
    hits: list[HostHit] = []
    used: set[tuple[str, str]] = set()
    for a in sorted(archives, key=lambda r: r["ts"]):
        host = a.get("host") or ""
        for k in roots(proc_key(a)):
            docs = [r for r in reads.get((host, k), {}).values() if r["ts"] <= a["ts"]]
            if len(docs) < min_documents or (host, k) in used:
                continue
            last = max(r["ts"] for r in docs)
            if a["ts"] - last > window:
                continue
            used.add((host, k))
            first = min(r["ts"] for r in docs)
            score = min(max_score, base_score + per_document * (len(docs) - min_documents))
            hits.append(HostHit(
                rule="staging", host=host, first_ts=first, last_ts=a["ts"], score=score,
                summary=f"{len(docs)} documents read, then archive {a.get('path')} written by "
                        f"{basename(a.get('image')) or 'a process'}",
                technique="T1074.001", key=f"{k}|{a.get('path')}",
                evidence={"documents": len(docs), "archive": a.get("path"), "archive_size": a.get("size"),
                          "process": a.get("image"), "examples": [d.get("path") for d in docs[:5]]},
                records=[r for r in (ref(a), *(ref(d) for d in docs[:10])) if r],
                procs=[proc_key(a)],
            ))
            break
    return hits


def _in_drop_dir(path: str) -> bool:
    low = path.casefold()
    return any(d in low for d in USER_DROP_DIRS)


def user_execution(process: Iterable[Row], *, attachment_score: float = 0.55,
                   download_score: float = 0.4) -> list[HostHit]:
    """Programs started from a mail attachment folder (or by the mail client), from Downloads or from Temp."""
    hits: list[HostHit] = []
    for p in process:
        if (p.get("event") or "start") != "start":
            continue
        image, parent = p.get("image") or "", basename(p.get("parent_image"))
        name = basename(image)
        if not name.endswith((".exe", ".scr", ".com", ".pif", ".bat", ".cmd", ".js", ".vbs", ".hta", ".msi")):
            continue
        low = image.casefold()
        from_mail = parent == "outlook.exe" and name not in OFFICE | BROWSERS or "content.outlook" in low \
            or "\\olk" in low
        if from_mail:
            score, what, tech = attachment_score, "mail attachment executed", "T1204.002"
        elif _in_drop_dir(image):
            score, what, tech = download_score, "program run from a download or temporary folder", "T1204.002"
        else:
            continue
        hits.append(HostHit(
            rule="user-execution", host=p.get("host") or "", first_ts=p["ts"], last_ts=p["ts"], score=score,
            summary=f"{what}: {image} (parent {parent or '?'})", technique=tech, key=_start_key(p),
            evidence={"image": image, "parent_image": p.get("parent_image"), "command_line": p.get("command_line"),
                      "user": p.get("user")},
            records=[r for r in (ref(p),) if r], procs=[proc_key(p)],
        ))
    return _merge(hits)


def office_shell(process: Iterable[Row], *, office_score: float = 0.65, browser_score: float = 0.5) -> list[HostHit]:
    """Office, a PDF reader or a browser starting a shell, script host or LOLBin."""
    hits: list[HostHit] = []
    for p in process:
        if (p.get("event") or "start") != "start":
            continue
        parent, child = basename(p.get("parent_image")), basename(p.get("image"))
        if child not in SHELLS:
            continue
        if parent in OFFICE:
            score = office_score
        elif parent in BROWSERS:
            score = browser_score
        else:
            continue
        hits.append(HostHit(
            rule="office-shell", host=p.get("host") or "", first_ts=p["ts"], last_ts=p["ts"], score=score,
            summary=f"{parent} started {child}: {(p.get('command_line') or '')[:200]}",
            technique="T1059", key=_start_key(p),
            evidence={"parent_image": p.get("parent_image"), "image": p.get("image"),
                      "command_line": p.get("command_line"), "user": p.get("user")},
            records=[r for r in (ref(p),) if r], procs=[proc_key(p)],
        ))
    return _merge(hits)


def _access_mask(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value), 16) if str(value).lower().startswith("0x") else int(value)
    except ValueError:
        return None


def credential_dumping(process: Iterable[Row], file_events: Iterable[Row], win_events: Iterable[Row], *,
                       benign_readers: tuple[str, ...] = ("msmpeng.exe", "csrss.exe", "wininit.exe",
                                                           "lsm.exe", "mrt.exe", "svchost.exe"),
                       tool_score: float = 0.85, dump_file_score: float = 0.85,
                       access_score: float = 0.7) -> list[HostHit]:
    """LSASS credential dumping: a dumping command line, a dump file of LSASS, or LSASS memory read."""
    hits: list[HostHit] = []
    for p in process:
        cmd = p.get("command_line") or ""
        if (p.get("event") or "start") == "start" and DUMP_TOOLS.search(cmd):
            hits.append(HostHit(
                rule="credential-dumping", host=p.get("host") or "", first_ts=p["ts"], last_ts=p["ts"],
                score=tool_score, summary=f"credential dumping command: {cmd[:200]}", technique="T1003.001",
                key="cmd|" + _start_key(p), evidence={"image": p.get("image"), "command_line": cmd},
                records=[r for r in (ref(p),) if r], procs=[proc_key(p)]))
    for f in file_events:
        path = f.get("path") or ""
        low = path.casefold()
        if (f.get("action") or "") in WRITE and low.endswith(".dmp") and dumps_lsass(low, f):
            hits.append(HostHit(
                rule="credential-dumping", host=f.get("host") or "", first_ts=f["ts"], last_ts=f["ts"],
                score=dump_file_score, summary=f"LSASS dump file written: {path} by {basename(f.get('image'))}",
                technique="T1003.001", key="file|" + low,
                evidence={"path": path, "image": f.get("image"), "size": f.get("size"),
                          "inferred": inferred_rule(f)},
                records=[r for r in (ref(f),) if r], procs=[proc_key(f)]))
    for w in win_events:
        if w.get("event_id") != 10:
            continue
        data = event_data(w)
        target, source = basename(data.get("TargetImage")), basename(data.get("SourceImage"))
        mask = _access_mask(data.get("GrantedAccess"))
        if target != "lsass.exe" or mask is None or not mask & VM_READ or source in benign_readers:
            continue
        hits.append(HostHit(
            rule="credential-dumping", host=w.get("host") or "", first_ts=w["ts"], last_ts=w["ts"],
            score=access_score, summary=f"{source or '?'} read LSASS memory (access {data.get('GrantedAccess')})",
            technique="T1003.001", key=f"access|{source}|{data.get('SourceProcessGUID') or ''}",
            evidence={"source_image": data.get("SourceImage"), "granted_access": data.get("GrantedAccess"),
                      "call_trace": (data.get("CallTrace") or "")[:300]},
            records=[r for r in (ref(w),) if r],
            procs=[_guid_key(data.get("SourceProcessGUID")) or f"{data.get('SourceProcessId')}:{source}"]))
    return _merge(hits)


def _guid_key(value: Any) -> str | None:
    """A GUID as the normalised tables write it (no braces, lower case)."""
    if not value:
        return None
    return str(value).strip("{}").lower()


def event_data(row: Row) -> dict[str, Any]:
    """The EventData of a ``win_event`` row (JSON text in ``data``) as a dict."""
    raw = row.get("data")
    if isinstance(raw, dict):
        return raw
    try:
        return dict(json.loads(raw)) if raw else {}
    except (ValueError, TypeError):
        return {}


def inferred_rule(row: Row) -> str | None:
    """The rule that inferred a file event from a command line (``extra.rule``, e.g. ``comsvcs-minidump``)."""
    try:
        extra = json.loads(row.get("extra") or "{}")
    except (TypeError, ValueError):
        return None
    return extra.get("rule") if isinstance(extra, dict) else None


def dumps_lsass(path: str, row: Row) -> bool:
    """Whether a dump file at ``path`` holds LSASS memory: named so, or written by comsvcs' MiniDump."""
    return "lsass" in basename(path) or inferred_rule(row) == "comsvcs-minidump"


def _merge(hits: list[HostHit]) -> list[HostHit]:
    """One hit per (host, key): repeated accesses by the same process are one behaviour."""
    out: dict[tuple[str, str], HostHit] = {}
    for h in sorted(hits, key=lambda h: h.first_ts):
        k = (h.host, h.key)
        if k in out:
            o = out[k]
            o.last_ts = max(o.last_ts, h.last_ts)
            o.score = max(o.score, h.score)
            o.evidence["count"] = int(o.evidence.get("count", 1)) + 1
            o.records = (o.records + h.records)[:20]
            o.procs = sorted(set(o.procs) | set(h.procs))
        else:
            out[k] = h
    return list(out.values())
