"""A timeline from initial access to exfiltration, with MITRE ATT&CK technique ids."""

from __future__ import annotations

from leaktrace.investigate.actors import LAUNCHERS, Actors, basename
from leaktrace.investigate.case import Case, Row, record_ref
from leaktrace.investigate.model import TimelineEvent

DISCOVERY = {
    "whoami.exe": ("T1033", "System Owner/User Discovery"),
    "systeminfo.exe": ("T1082", "System Information Discovery"),
    "ipconfig.exe": ("T1016", "System Network Configuration Discovery"),
    "net.exe": ("T1087", "Account Discovery"),
    "nltest.exe": ("T1482", "Domain Trust Discovery"),
    "tasklist.exe": ("T1057", "Process Discovery"),
}
ARCHIVERS = {"7z.exe", "7za.exe", "rar.exe", "winrar.exe", "makecab.exe", "tar.exe", "powershell.exe"}
MAIL_PATH_HINTS = ("content.outlook", "inetcache", "\\downloads\\", "/downloads/", "\\temp\\", "appdata\\local\\temp")


def _user_execution(p: Row) -> TimelineEvent:
    image = p.get("image") or ""
    parent = basename(p.get("parent_image"))
    where = "a mail attachment" if "content.outlook" in image.casefold() or parent == "outlook.exe" else "a file"
    return TimelineEvent(ts=p["ts"], phase="execution", technique="T1204.002",
                         description=f"{where} was executed: {image} (parent {parent or 'unknown'})",
                         actor=p.get("user"), record=record_ref(p))


def build_timeline(case: Case, actors: Actors, uploads: list[Row], reads: list[Row],
                   archives: list[Row]) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    user = (case.user or "").casefold()
    roots = [p for p in actors.processes if basename(p.get("parent_image")) in LAUNCHERS
             or not any(q.get("process_guid") == p.get("parent_guid") for q in actors.processes)]
    first_exec = min((p["ts"] for p in roots), default=None)
    # the delivering mail: the last mail with an attachment to the user before the implant first ran
    mails = [m for m in case.smtp
             if (not user or user in (m.get("rcpt_to") or "").casefold()) and (m.get("fuids") or "").strip()
             and (first_exec is None or m["ts"] <= first_exec)]
    if mails:
        m = max(mails, key=lambda r: r["ts"])
        events.append(TimelineEvent(ts=m["ts"], phase="initial-access", technique="T1566.001",
                                    description=f"mail with attachment from {m.get('mail_from') or m.get('from_header')} "
                                                f"to {m.get('rcpt_to')}: {m.get('subject') or ''}".strip(),
                                    record=record_ref(m)))
    for p in roots[:3]:
        events.append(_user_execution(p))
    for p in actors.processes:
        name = basename(p.get("image"))
        if name in DISCOVERY:
            tid, what = DISCOVERY[name]
            events.append(TimelineEvent(ts=p["ts"], phase="discovery", technique=tid,
                                        description=f"{what}: {p.get('command_line') or name}",
                                        actor=p.get("image"), record=record_ref(p)))
        cmd = (p.get("command_line") or "").casefold()
        if "lsass" in cmd or "minidump" in cmd or "sekurlsa" in cmd:
            events.append(TimelineEvent(ts=p["ts"], phase="credential-access", technique="T1003.001",
                                        description=f"LSASS memory access: {p.get('command_line')}",
                                        actor=p.get("image"), record=record_ref(p)))
    exfil_servers = set(case.servers)
    c2_servers = set(actors.servers) | exfil_servers
    c2 = sorted((c for c in case.conn if c.get("dst_ip") in c2_servers), key=lambda c: c["ts"])
    for server in sorted(c2_servers):
        mine = [c for c in c2 if c.get("dst_ip") == server]
        if mine:
            role = "exfiltration server" if server in exfil_servers else "command-and-control server"
            events.append(TimelineEvent(ts=mine[0]["ts"], phase="command-and-control", technique="T1071.001",
                                        description=f"first connection to {server}:{mine[0].get('dst_port')}, "
                                                    f"the {role} ({len(mine)} connections in all)",
                                        record=record_ref(mine[0])))
    if reads:
        first, last = reads[0], reads[-1]
        unc = any((r.get("path") or "").startswith("\\\\") for r in reads)
        events.append(TimelineEvent(ts=first["ts"], phase="collection", technique="T1039" if unc else "T1005",
                                    description=f"{len(reads)} file reads by the implant, until {last['ts']:%H:%M:%S}",
                                    actor=first.get("image"), record=record_ref(first)))
    for a in archives:
        events.append(TimelineEvent(ts=a["ts"], phase="collection", technique="T1560",
                                    description=f"archive written: {a.get('path')} ({a.get('size') or '?'} bytes)",
                                    actor=a.get("image"), record=record_ref(a)))
    for u in uploads:
        # over the C2 channel when the upload goes where the implant was already talking; else to a web service
        same_channel = any(c["ts"] < u["ts"] and c.get("dst_ip") == u.get("dst_ip") for c in c2 if c is not u)
        events.append(TimelineEvent(ts=u["ts"], phase="exfiltration", technique="T1041" if same_channel else "T1567",
                                    description=f"upload of {int(u.get('bytes_out') or 0):,} bytes to "
                                                f"{u.get('dst_ip')}:{u.get('dst_port')}", record=record_ref(u)))
    return sorted(events, key=lambda e: e.ts)
