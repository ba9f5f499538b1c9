"""Grouping, explainable score, stable ids, lifecycle and feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leaktrace.detect.base import Finding
from leaktrace.errors import LeaktraceError
from leaktrace.incidents import IncidentParams, Store, group_findings, score_group

T = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def f(
    kind: str,
    score: float,
    dst_ip: str | None = "203.0.113.9",
    domain: str | None = None,
    host: str = "10.0.0.5",
    start: float = 0,
    hours: float = 1,
    detector: str | None = None,
) -> Finding:
    return Finding(
        detector=detector or kind,
        kind=kind,
        tenant="t",
        src_ip=host,
        dst_ip=dst_ip,
        dst_domain=domain,
        first_ts=T + timedelta(hours=start),
        last_ts=T + timedelta(hours=start + hours),
        score=score,
        bytes_out=6_000_000 if kind == "exfiltration" else 1000,
        summary=f"{kind} {score}",
    )


def test_grouping_by_host_server_and_gap() -> None:
    items = [
        f("beaconing", 0.6, domain="c2.example"),
        f("exfiltration", 0.7, dst_ip="203.0.113.9", start=3),
        f("dns-tunnel", 0.5, dst_ip=None, domain="x.c2.example", start=2),  # same registered domain
        f("beaconing", 0.5, dst_ip="198.51.100.1", start=1),  # other server
        f("beaconing", 0.5, start=40),  # same pair, 36 h later
        f("beaconing", 0.5, host="10.0.0.6"),
    ]  # other host
    groups = group_findings(items, timedelta(hours=12))
    sizes = sorted(len(g.findings) for g in groups)
    assert sizes == [1, 1, 1, 3]


def test_score_is_explained_and_beacon_plus_exfil_is_critical() -> None:
    score, why = score_group(
        [f("beaconing", 0.5), f("exfiltration", 0.6), f("no-dns", 0.2)], IncidentParams()
    )
    assert score == 0.85
    assert [e.get("kind") or e.get("rule") for e in why] == [
        "exfiltration",
        "beaconing",
        "no-dns",
        "beaconing + exfiltration",
    ]
    assert why[0]["contribution"] == 0.6 and why[1]["contribution"] == 0.15 and why[2]["contribution"] == 0
    low, _ = score_group([f("long-connection", 0.36), f("beaconing", 0.32)], IncidentParams())
    assert low == 0.36  # two weak signals stay weak


def test_stable_ids_lifecycle_and_feedback(tmp_path: Path) -> None:
    store = Store.for_state_dir(tmp_path)
    store.upsert_findings(
        [
            f("beaconing", 0.7, domain="c2.example"),
            f("exfiltration", 0.3, dst_ip="192.0.2.1", host="10.0.0.9"),
        ]
    )
    first = {i.host_ip: i.id for i in store.regroup("t")}
    store.upsert_findings([f("exfiltration", 0.7, start=2)])  # re-analysis adds a finding to the same pair
    again = store.regroup("t")
    assert {i.host_ip: i.id for i in again} == first
    top = again[0]
    assert top.kinds == ["beaconing", "exfiltration"] and top.severity == "critical"
    store.set_status(top.id, "notified")
    store.set_status(top.id, "contained", note="blocked at proxy")
    with pytest.raises(LeaktraceError):
        store.set_status(top.id, "new")
    assert [h.new for h in store.history(top.id)] == ["notified", "contained"]
    # benign feedback on the other incident suppresses look-alikes to that server from any host
    other = first["10.0.0.9"]
    store.feedback(other, "benign", note="backup service")
    store.upsert_findings([f("exfiltration", 0.35, dst_ip="192.0.2.1", host="10.0.0.10")])
    ids = {i.host_ip for i in store.regroup("t")}
    assert "10.0.0.10" not in ids and "10.0.0.9" not in ids
    # malicious feedback adds the server as an indicator
    store.feedback(top.id, "malicious")
    assert {"ip", "domain"} <= {i["type"] for i in store.indicators()}


def test_lone_ambiguous_signal_is_rated_one_band_below_its_finding() -> None:
    p = IncidentParams()
    mid, why = score_group([f("beaconing", 0.55)], p)
    assert (
        mid == p.ambiguous_low_cap and why[-1]["cap"] == p.ambiguous_low_cap
    )  # medium finding: low incident
    high, _ = score_group([f("beaconing", 0.7)], p)
    assert high == p.ambiguous_cap  # high finding: medium incident
    both, _ = score_group([f("beaconing", 0.55), f("exfiltration", 0.6)], p)
    assert both == 0.85  # data movement: not capped


def test_incident_params_are_configurable_and_validated(tmp_path: Path) -> None:
    from leaktrace.config import config_from_dict
    from leaktrace.errors import ConfigError

    cfg = config_from_dict({"detect": {"incidents": {"gap_hours": 6, "ambiguous_medium_min": 0.7}}})
    p = cfg.detector_params("incidents", IncidentParams)
    assert p.gap_hours == 6 and p.ambiguous_medium_min == 0.7 and p.min_score == IncidentParams().min_score
    with pytest.raises(ConfigError, match="detect.incidents.gap_hour"):
        config_from_dict({"detect": {"incidents": {"gap_hour": 6}}})
    with pytest.raises(ConfigError, match="unknown detector"):
        config_from_dict({"detect": {"incident": {}}})


def test_lone_supporting_signal_stays_a_finding() -> None:
    from leaktrace.incidents.scoring import is_incident

    p = IncidentParams()
    lone = [f("no-dns", 0.3)]
    assert not is_incident(lone, score_group(lone, p)[0], p)
    strong = [f("no-dns", 0.4)]
    assert is_incident(strong, score_group(strong, p)[0], p)
    with_beacon = [f("no-dns", 0.3), f("beaconing", 0.5)]
    assert is_incident(with_beacon, score_group(with_beacon, p)[0], p)
