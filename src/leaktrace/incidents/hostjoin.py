"""Host findings (endpoint behaviour: staging, credential dumping, Sigma ...) join the host's incidents.

A host finding whose processes talked to an external server carries that server (``dst_ip``) and is grouped
with that server's network findings like any other finding (:mod:`leaktrace.hostdetect.tree`). A host finding
without a server is handled here: if its kind is in ``join_kinds`` (strong behaviour such as credential
dumping or staging) it joins the incident of the same host nearest in time (inside its span, or within
``gap``); otherwise, or when there is none, it goes into a host-only group per host, split by the same gap,
which the caller keeps only when it is strong on its own (``IncidentParams.host_only_min``). Weak behaviour
is never tied to an unrelated server by time alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from leaktrace.incidents.scoring import Group


def is_host_finding(f: Any) -> bool:
    return not f.dst_ip and not f.dst_domain


def _distance(f: Any, start: datetime, end: datetime) -> timedelta:
    if f.last_ts < start:
        return start - f.last_ts
    if f.first_ts > end:
        return f.first_ts - end
    return timedelta(0)


def _split_by_gap(tenant: str, host: str, items: list[Any], gap: timedelta) -> list[Group]:
    items = sorted(items, key=lambda f: f.first_ts)
    groups = [Group(tenant, host, [items[0]])]
    end = items[0].last_ts
    for f in items[1:]:
        if f.first_ts > end + gap:
            groups.append(Group(tenant, host, []))
        groups[-1].findings.append(f)
        end = max(end, f.last_ts) if len(groups[-1].findings) > 1 else f.last_ts
    return groups


def group_with_host_findings(
    findings: list[Any],
    gap: timedelta,
    group_network: Callable[[list[Any], timedelta], list[Group]],
    join_kinds: set[str] | None = None,
) -> list[Group]:
    """Findings with a server grouped by ``group_network``; server-less findings of ``join_kinds`` (all when
    None) attached to the nearest group of their host within ``gap``; the rest grouped per host."""
    network = [f for f in findings if not is_host_finding(f)]
    host = [f for f in findings if is_host_finding(f)]
    groups = group_network(network, gap)
    spans = {id(g): (g.start, g.end) for g in groups}  # spans of the network evidence only
    by_host: dict[tuple[str, str], list[Group]] = defaultdict(list)
    for g in groups:
        by_host[(g.tenant, g.host)].append(g)
    left: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for f in host:
        best: Group | None = None
        best_d: timedelta | None = None
        candidates = by_host.get((f.tenant, f.src_ip), []) if join_kinds is None or f.kind in join_kinds else []
        for g in candidates:
            d = _distance(f, *spans[id(g)])
            if d > gap:
                continue
            if (
                best is None
                or best_d is None
                or d < best_d
                or (d == best_d and len(g.findings) > len(best.findings))
            ):
                best, best_d = g, d
        if best is not None:
            best.findings.append(f)
        else:
            left[(f.tenant, f.src_ip)].append(f)
    for (tenant, h), items in left.items():
        groups.extend(_split_by_gap(tenant, h, items, gap))
    return groups
