"""Which external servers a host finding's processes talked to: the link from endpoint behaviour to the
network incident.

A behaviour belongs to the incident of a server when the acting process, one of its ancestors up to (not
including) the programs a person starts things from (Explorer, Office, browsers, service hosts), or one of its
descendants connected to that server (Sysmon 3 / WFP 5156 rows in ``endpoint_conn``). The LSASS dump written by
a ``rundll32`` that the implant's shell started is thereby tied to the implant's C2.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from leaktrace.detect.net import external_host
from leaktrace.hostdetect.rules import basename, proc_key
from leaktrace.investigate.actors import LAUNCHERS

Row = dict[str, Any]


class ProcessTree:
    def __init__(self, process: list[Row], endpoint_conn: list[Row], internal: list[str]) -> None:
        self.parent: dict[str, str] = {}
        self.children: dict[str, list[str]] = defaultdict(list)
        self.image: dict[str, str] = {}
        self.alias: dict[str, str] = {}  # "pid:image" -> GUID (rows without a GUID: 4688, inferred files, WFP)
        by_pid: dict[tuple[str | None, int | None], str] = {}
        for p in process:
            if (p.get("event") or "start") != "start":
                continue
            key = proc_key(p)
            self.image[key] = basename(p.get("image"))
            by_pid[(p.get("host"), p.get("pid"))] = key
            if p.get("process_guid") and p.get("pid") is not None:
                self.alias.setdefault(f"{p.get('pid')}:{basename(p.get('image'))}", key)
        for p in process:
            if (p.get("event") or "start") != "start":
                continue
            key = self.canonical(proc_key(p))
            parent = p.get("parent_guid") or by_pid.get((p.get("host"), p.get("parent_pid")))
            if parent and parent != key:
                self.parent[key] = str(parent)
                self.children[str(parent)].append(key)
        self.servers: dict[str, Counter[str]] = defaultdict(Counter)
        for c in endpoint_conn:
            if external_host(c.get("dst_ip"), internal):
                self.servers[self.canonical(proc_key(c))][str(c["dst_ip"])] += 1

    def canonical(self, key: str) -> str:
        return self.alias.get(key, key)

    def related(self, keys: list[str]) -> set[str]:
        """The processes themselves, their ancestors up to a launcher, and their descendants."""
        nodes: set[str] = set()
        for k in (self.canonical(k) for k in keys):
            nodes.add(k)
            cur, seen = k, {k}
            while cur in self.parent and self.parent[cur] not in seen:
                par = self.parent[cur]
                if self.image.get(par, "") in LAUNCHERS:
                    break
                nodes.add(par)
                seen.add(par)
                cur = par
            stack = [k]
            while stack:
                for child in self.children.get(stack.pop(), []):
                    if child not in nodes and self.image.get(child, "") not in LAUNCHERS:
                        nodes.add(child)
                        stack.append(child)
        return nodes

    def servers_of(self, keys: list[str]) -> Counter[str]:
        total: Counter[str] = Counter()
        for n in self.related(keys):
            total.update(self.servers.get(n, Counter()))
        return total
