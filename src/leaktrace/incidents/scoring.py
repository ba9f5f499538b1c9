"""Grouping findings into incidents and the explainable incident score. Pure functions, no I/O.

Grouping: findings of one tenant and one internal host belong to the same incident when they share the
server (same destination IP, or same registered domain of the server name) and their time spans lie within
``gap`` of each other.

Score: the best finding of each kind counts; the strongest kind counts fully and every other kind adds
``synergy`` × its score if it is at least ``synergy_min`` (independent signals about the same host × server reinforce each other; two weak signals do not make a strong one); then
a lone ambiguous behaviour (a periodic connection, a long session, a
literal IP) is capped at medium: high and critical need data movement, an indicator, a tip or two strong
signals. A group made only of supporting kinds (a connection to a literal IP: weak alone, by the no-DNS
detector's own account) becomes an incident only when a finding reaches ``supporting_min`` (0.4: a rare IP *and* a megabyte sent);
below, its findings stay findings.
A lone ambiguous signal is rated one band below its best finding, as RITA rates a lone indicator (0.6–0.8 "medium",
0.4–0.6 "low"): medium only when that finding reaches ``ambiguous_medium_min`` (0.6), else at most low. A
periodic connection of RITA score 0.5 to a server few hosts use is common on any network (mail and news
polling, update checks); alone it is worth a look, not a medium incident. Then multi-signal rules set a floor (e.g. beaconing + exfiltration to the same server is critical). Every
contribution is listed in the explanation, so the number can be read back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import clamp, severity_for
from leaktrace.detect.domains import registered_domain

LIFECYCLE = ["new", "notified", "contained", "investigated", "reported", "closed"]


class IncidentParams(Strict):
    gap_hours: float = Field(default=12.0, gt=0, description="findings further apart start a new incident")
    min_score: float = Field(
        default=0.25, ge=0, le=1, description="groups scoring below this stay findings, not incidents"
    )
    synergy: float = Field(default=0.3, ge=0, le=1, description="weight of each additional kind of finding")
    synergy_min: float = Field(
        default=0.4, ge=0, le=1, description="score a further kind needs to add synergy"
    )
    supporting_kinds: list[str] = Field(
        default=["no-dns"],
        description="kinds that mainly strengthen an incident built from other signals: alone they make an "
        "incident only when one of them scores supporting_min",
    )
    supporting_min: float = Field(
        default=0.4, ge=0, le=1, description="finding score a group of supporting kinds alone needs"
    )
    ambiguous_kinds: list[str] = Field(
        default=["beaconing", "long-connection", "no-dns", "archive-upload", "payload-download"],
        description="kinds that alone (without a second strong signal) make at most a medium incident",
    )
    ambiguous_cap: float = Field(default=0.59, ge=0, le=1, description="cap for such incidents")
    ambiguous_medium_min: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="best finding score such an incident needs to be medium (RITA's 'medium' band starts at 0.6)",
    )
    ambiguous_low_cap: float = Field(
        default=0.39, ge=0, le=1, description="cap for such incidents whose best finding is below that"
    )
    host_c2_min: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="beacon score that makes a host 'remote-controlled' for host rules",
    )
    host_exfil_min: float = Field(
        default=0.3, ge=0, le=1, description="exfiltration score that the host rule considers"
    )
    host_combo_floor: float = Field(
        default=0.85, ge=0, le=1, description="exfiltration by a host that beacons elsewhere is at least this"
    )
    host_kinds: list[str] = Field(
        default=["staging", "user-execution", "office-shell", "credential-dumping", "sigma"],
        description="kinds found on the endpoint (hostdetect); a group of these alone needs host_only_min",
    )
    host_only_min: float = Field(
        default=0.7, ge=0, le=1,
        description="score a group of host findings alone (no network finding) needs to be an incident",
    )
    host_join_kinds: list[str] = Field(
        default=["credential-dumping", "staging"],
        description="host kinds that, with no server of their own, join the host's incident nearest in time",
    )
    combo_min: float = Field(
        default=0.4, ge=0, le=1, description="finding score a kind needs to trigger a rule"
    )
    combos: list[tuple[list[str], float]] = Field(
        default=[
            (["beaconing", "exfiltration"], 0.85),
            (["indicator", "exfiltration"], 0.85),
            (["dns-tunnel", "exfiltration"], 0.85),
            (["tip", "exfiltration"], 0.85),
            (["beaconing", "archive-upload"], 0.8),
            (["exfiltration", "archive-upload"], 0.8),
            (["beaconing", "indicator"], 0.8),
            (["beaconing", "staging"], 0.85),
            (["exfiltration", "staging"], 0.85),
            (["archive-upload", "staging"], 0.8),
            (["beaconing", "credential-dumping"], 0.85),
            (["payload-download", "user-execution"], 0.7),
        ],
        description="(kinds, floor): when all kinds are present (each ≥ combo_min) the score is at least floor",
    )


class FindingLike(Protocol):
    key: Any
    detector: str
    kind: str
    tenant: str
    src_ip: str
    dst_ip: str | None
    dst_domain: str | None
    first_ts: datetime
    last_ts: datetime
    score: float
    bytes_out: int
    bytes_in: int


@dataclass
class Group:
    tenant: str
    host: str
    findings: list[Any] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return min(f.first_ts for f in self.findings)

    @property
    def end(self) -> datetime:
        return max(f.last_ts for f in self.findings)

    def server_ip(self) -> str | None:
        ips: dict[str, int] = defaultdict(int)
        for f in self.findings:
            if f.dst_ip:
                ips[f.dst_ip] += max(1, int(f.bytes_out or 0)) + 1_000_000_000 * (f.kind == "exfiltration")
        return max(ips, key=lambda k: ips[k]) if ips else None

    def server_domain(self) -> str | None:
        names: dict[str, int] = defaultdict(int)
        for f in self.findings:
            if f.dst_domain:
                names[f.dst_domain] += 1
        return max(names, key=lambda k: (names[k], -len(k))) if names else None


def server_keys(f: FindingLike) -> set[str]:
    keys = set()
    if f.dst_ip:
        keys.add("ip:" + f.dst_ip)
    if f.dst_domain:
        keys.add("dom:" + registered_domain(f.dst_domain))
    return keys


def group_findings(findings: list[Any], gap: timedelta) -> list[Group]:
    """Union findings per (tenant, host) that share a server key, then split by time gap."""
    by_host: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for f in findings:
        by_host[(f.tenant, f.src_ip)].append(f)
    groups: list[Group] = []
    known: dict[tuple[str | None, str | None], set[str]] = {}  # server keys per (IP, domain), computed once
    for (tenant, host), items in by_host.items():
        parent = list(range(len(items)))

        def find(i: int, parent: list[int] = parent) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        owner: dict[str, int] = {}
        for i, f in enumerate(items):
            pair = (f.dst_ip, f.dst_domain)
            keys = known.get(pair)
            if keys is None:
                keys = known[pair] = server_keys(f)
            for k in keys:
                if k in owner:
                    parent[find(i)] = find(owner[k])
                else:
                    owner[k] = i
        comps: dict[int, list[Any]] = defaultdict(list)
        for i, f in enumerate(items):
            comps[find(i)].append(f)
        for comp in comps.values():
            comp.sort(key=lambda f: f.first_ts)
            current = Group(tenant, host, [comp[0]])
            end = comp[0].last_ts
            for f in comp[1:]:
                if f.first_ts > end + gap:
                    groups.append(current)
                    current = Group(tenant, host, [])
                current.findings.append(f)
                end = max(end, f.last_ts) if current.findings[:-1] else f.last_ts
            groups.append(current)
    return groups


def score_group(findings: list[Any], p: IncidentParams) -> tuple[float, list[dict[str, Any]]]:
    """(score, explanation) of one incident."""
    best: dict[str, Any] = {}
    for f in findings:
        if f.kind not in best or f.score > best[f.kind].score:
            best[f.kind] = f
    ranked = sorted(best.values(), key=lambda f: -f.score)
    explanation: list[dict[str, Any]] = []
    score = 0.0
    for i, f in enumerate(ranked):
        weight = 1.0 if i == 0 else (p.synergy if f.score >= p.synergy_min else 0.0)
        contribution = weight * f.score
        score += contribution
        explanation.append(
            {
                "kind": f.kind,
                "detector": f.detector,
                "finding": str(f.key),
                "finding_score": round(f.score, 3),
                "weight": weight,
                "contribution": round(contribution, 3),
                "summary": getattr(f, "summary", ""),
            }
        )
    strong = {k for k, f in best.items() if f.score >= p.combo_min}
    if set(best) <= set(p.ambiguous_kinds) and len(strong) < 2:
        # one band below the finding's own severity, as RITA rates a lone indicator (0.6 medium, 0.4 low)
        top = ranked[0].score if ranked else 0.0
        cap = p.ambiguous_cap if top >= p.ambiguous_medium_min else min(p.ambiguous_cap, p.ambiguous_low_cap)
        if score > cap:
            explanation.append(
                {
                    "rule": "single ambiguous signal (no data movement, indicator or tip)",
                    "cap": cap,
                    "contribution": round(cap - score, 3),
                }
            )
            score = cap
    for kinds, floor in p.combos:
        if set(kinds) <= strong and score < floor:
            explanation.append(
                {"rule": " + ".join(kinds), "floor": floor, "contribution": round(floor - score, 3)}
            )
            score = floor
    return round(clamp(score), 4), explanation


def is_incident(findings: list[Any], score: float, p: IncidentParams) -> bool:
    """Whether a scored group becomes an incident: a tip always; a group of supporting kinds only (a literal-IP
    connection) from ``supporting_min``; anything else from ``min_score``."""
    kinds = {f.kind for f in findings}
    if "tip" in kinds:
        return True
    if kinds <= set(p.host_kinds):
        return score >= p.host_only_min
    if kinds <= set(p.supporting_kinds) and max(f.score for f in findings) < p.supporting_min:
        return False
    return score >= p.min_score


def severity(score: float) -> str:
    return severity_for(score)


def host_context(
    g: Group, score: float, explanation: list[dict[str, Any]], groups: list[Group], p: IncidentParams
) -> tuple[float, list[dict[str, Any]]]:
    """Cross-incident rule: exfiltration (≥ host_exfil_min) from a host that beacons strongly (≥ host_c2_min) to
    another server, with the beaconing starting before the upload ends, is at least ``host_combo_floor``. The
    C2 and the drop server are often different machines; the host ties them together."""
    exfil = [f for f in g.findings if f.kind == "exfiltration" and f.score >= p.host_exfil_min]
    if not exfil or score >= p.host_combo_floor:
        return score, explanation
    end = max(f.last_ts for f in exfil)
    for other in groups:
        if other is g or other.host != g.host or other.tenant != g.tenant:
            continue
        c2 = [
            f
            for f in other.findings
            if f.kind == "beaconing" and f.score >= p.host_c2_min and f.first_ts <= end
        ]
        if c2:
            server = other.server_domain() or other.server_ip()
            explanation = [
                *explanation,
                {
                    "rule": f"host also beacons to {server}",
                    "floor": p.host_combo_floor,
                    "contribution": round(p.host_combo_floor - score, 3),
                },
            ]
            return p.host_combo_floor, explanation
    return score, explanation
