"""Host findings join the nearest incident of their host; the rest make host-only groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leaktrace.incidents.hostjoin import group_with_host_findings, is_host_finding
from leaktrace.incidents.scoring import group_findings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GAP = timedelta(hours=12)


@dataclass
class F:
    key: str
    kind: str
    src_ip: str
    first_h: float
    last_h: float
    dst_ip: str | None = None
    dst_domain: str | None = None
    tenant: str = "t"
    score: float = 0.5
    bytes_out: int = 0
    bytes_in: int = 0
    detector: str = "d"

    @property
    def first_ts(self) -> datetime:
        return T0 + timedelta(hours=self.first_h)

    @property
    def last_ts(self) -> datetime:
        return T0 + timedelta(hours=self.last_h)


def keys(groups: list) -> list[list[str]]:
    return sorted(sorted(f.key for f in g.findings) for g in groups)


def test_host_findings_join_the_nearest_incident_of_their_host() -> None:
    findings = [
        F("c2", "beaconing", "10.0.0.5", 0, 10, dst_ip="203.0.113.9"),
        F("exfil", "exfiltration", "10.0.0.5", 30, 31, dst_ip="198.51.100.7"),
        F("dump", "credential-dumping", "10.0.0.5", 5, 5),  # inside the beaconing
        F("stage", "staging", "10.0.0.5", 29, 29.5),  # an hour before the upload
        F("other-host", "staging", "10.0.0.9", 5, 5),  # no incident on that host
        F("far", "sigma", "10.0.0.5", 100, 100),  # days later: its own group
    ]
    assert [is_host_finding(f) for f in findings] == [False, False, True, True, True, True]
    groups = group_with_host_findings(findings, GAP, group_findings)
    assert keys(groups) == [["c2", "dump"], ["exfil", "stage"], ["far"], ["other-host"]]


def test_a_host_finding_between_two_incidents_goes_to_the_closer() -> None:
    findings = [
        F("a", "beaconing", "10.0.0.5", 0, 1, dst_ip="203.0.113.9"),
        F("b", "exfiltration", "10.0.0.5", 8, 9, dst_ip="198.51.100.7"),
        F("h", "staging", "10.0.0.5", 7, 7),
    ]
    assert keys(group_with_host_findings(findings, GAP, group_findings)) == [["a"], ["b", "h"]]


def test_only_strong_kinds_join_by_time_alone() -> None:
    findings = [
        F("c2", "beaconing", "10.0.0.5", 0, 10, dst_ip="203.0.113.9"),
        F("dump", "credential-dumping", "10.0.0.5", 5, 5),
        F("setup", "user-execution", "10.0.0.5", 6, 6),  # no link to the server: not tied to it by time
        F("linked", "user-execution", "10.0.0.5", 1, 1, dst_ip="203.0.113.9"),  # its process talked to it
    ]
    groups = group_with_host_findings(findings, GAP, group_findings, join_kinds={"credential-dumping", "staging"})
    assert keys(groups) == [["c2", "dump", "linked"], ["setup"]]
