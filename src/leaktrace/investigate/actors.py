"""Which processes acted for the attacker: those that talked to the incident's servers, their descendants,
and their ancestors up to (not including) the programs a person starts things from (Explorer, Outlook, Office,
browsers, service hosts) — so that a user's own Word or Excel never becomes an actor by being an ancestor's
sibling.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from leaktrace.hostdetect.rules import basename
from leaktrace.investigate.case import Case, Row, is_internal

LAUNCHERS = {
    "explorer.exe", "outlook.exe", "winword.exe", "excel.exe", "powerpnt.exe", "acrord32.exe", "acrobat.exe",
    "chrome.exe", "msedge.exe", "firefox.exe", "iexplore.exe", "services.exe", "svchost.exe", "userinit.exe",
    "winlogon.exe", "wininit.exe", "smss.exe", "csrss.exe", "system", "taskeng.exe", "taskhostw.exe",
    "runtimebroker.exe", "sihost.exe",
}


@dataclass(frozen=True)
class ProcKey:
    guid: str | None
    pid: int | None
    image: str


def key_of(row: Row) -> ProcKey:
    return ProcKey(row.get("process_guid"), row.get("pid"), basename(row.get("image")))


@dataclass
class Actors:
    guids: set[str]
    pid_images: set[tuple[int, str]]
    processes: list[Row]  # the process-start rows of the actors
    start: datetime | None
    servers: set[str] = field(default_factory=set)  # external addresses the actors talked to (the C2 set)

    def has(self, row: Row) -> bool:
        guid = row.get("process_guid")
        if guid and guid in self.guids:
            return True
        pid = row.get("pid")
        return pid is not None and (pid, basename(row.get("image"))) in self.pid_images


def find_actors(case: Case) -> Actors:
    servers = set(case.servers)
    names = {n.casefold() for n in case.server_names}
    seeds: set[str] = set()
    seed_pids: set[tuple[int, str]] = set()
    for row in case.endpoint_conn:
        dst_host = (row.get("dst_host") or "").casefold()
        if row.get("dst_ip") in servers or (dst_host and dst_host in names):
            if row.get("process_guid"):
                seeds.add(row["process_guid"])
            elif row.get("pid") is not None:
                seed_pids.add((row["pid"], basename(row.get("image"))))
    starts = [p for p in case.process if (p.get("event") or "start") == "start"]
    by_guid = {p["process_guid"]: p for p in starts if p.get("process_guid")}
    children: dict[str, list[str]] = defaultdict(list)
    for p in starts:
        if p.get("parent_guid") and p.get("process_guid"):
            children[p["parent_guid"]].append(p["process_guid"])
    for p in starts:  # seeds known only by pid
        if p.get("pid") is not None and (p["pid"], basename(p.get("image"))) in seed_pids and p.get("process_guid"):
            seeds.add(p["process_guid"])
    actors = set(seeds)
    # ancestors up to a launcher
    for guid in list(seeds):
        cur = by_guid.get(guid)
        while cur is not None and cur.get("parent_guid") in by_guid:
            parent = by_guid[cur["parent_guid"]]
            if basename(parent.get("image")) in LAUNCHERS:
                break
            actors.add(parent["process_guid"])
            cur = parent
    # descendants of every actor
    stack = list(actors)
    while stack:
        g = stack.pop()
        for c in children.get(g, []):
            if c not in actors and basename(by_guid[c].get("image")) not in LAUNCHERS:
                actors.add(c)
                stack.append(c)
    rows = [by_guid[g] for g in actors if g in by_guid]
    pid_images = {(r["pid"], basename(r.get("image"))) for r in rows if r.get("pid") is not None} | seed_pids
    start = min((r["ts"] for r in rows if r.get("ts")), default=None)
    found = Actors(actors, pid_images, sorted(rows, key=lambda r: r["ts"]), start)
    # the C2 set: external servers the implant's own programs talk to. A system process that is an actor only
    # because it talked to the incident's server (an injected svchost, say) adds nothing: its other traffic
    # is its own.
    found.servers = {r["dst_ip"] for r in case.endpoint_conn
                     if found.has(r) and basename(r.get("image")) not in LAUNCHERS
                     and not is_internal(r.get("dst_ip"), case.internal)} | servers
    return found
