"""The incident store: upsert findings, regroup them into incidents with stable ids, lifecycle, feedback."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from leaktrace.detect.base import Finding
from leaktrace.detect.domains import registered_domain
from leaktrace.errors import LeaktraceError, NotFoundError
from leaktrace.incidents.db import (
    Base,
    FeedbackRow,
    FindingRow,
    IncidentRow,
    IndicatorRow,
    RunRow,
    StatusEvent,
    utcnow,
)
from leaktrace.incidents.hostjoin import group_with_host_findings
from leaktrace.incidents.scoring import (
    LIFECYCLE,
    IncidentParams,
    group_findings,
    host_context,
    is_incident,
    score_group,
    severity,
)
from leaktrace.intel.indicators import Indicator
from leaktrace.statedb import engine_for

FINDING_FIELDS = [
    "detector",
    "kind",
    "tenant",
    "src_ip",
    "dst_ip",
    "dst_domain",
    "first_ts",
    "last_ts",
    "score",
    "severity",
    "bytes_out",
    "bytes_in",
    "conn_count",
    "summary",
    "evidence",
    "uids",
]




@dataclass(slots=True)
class _Grouped:
    """A finding as regroup needs it (its columns, read in this order), with its stored assignment."""

    id: int
    key: str
    tenant: str
    detector: str
    kind: str
    src_ip: str
    dst_ip: str | None
    dst_domain: str | None
    first_ts: datetime
    last_ts: datetime
    score: float
    bytes_out: int
    bytes_in: int
    summary: str
    suppressed_by: int | None
    incident_id: str | None
    old_incident: str | None = None
    old_suppressed: int | None = None

    def __post_init__(self) -> None:
        self.old_incident, self.old_suppressed = self.incident_id, self.suppressed_by


# the finding columns regroup reads: the fields of _Grouped up to its stored assignment
GROUP_COLUMNS = [f.name for f in dataclasses.fields(_Grouped)][: -len(("old_incident", "old_suppressed"))]


_FINDINGS = cast(Table, FindingRow.__table__)  # Core statements (bulk insert/update)
UPSERT_CHUNK = 5000  # keys per IN (...) look-up (SQLite's host-parameter limit is 32,766)


def aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class Store:
    """Incidents, findings, feedback, indicators and analysis runs of one workspace (SQLAlchemy)."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url, Base.metadata)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def for_workspace(cls, ws: Any) -> Store:
        """The workspace's store: ``[state] url`` or SQLite in ``state/``."""
        return cls(ws.state_url)

    @classmethod
    def for_state_dir(cls, state_dir: Path) -> Store:
        state_dir.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{state_dir / 'leaktrace.db'}")

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as s, s.begin():
            yield s

    # -- findings --------------------------------------------------------------------------------------------
    def upsert_findings(self, findings: list[Finding]) -> int:
        """Insert or update findings by key, in bulk (executemany; no per-row ORM objects)."""
        latest: dict[str, Finding] = {}
        for f in findings:
            latest[f.key] = f  # a key found twice in one run: the last one wins, as before
        if not latest:
            return 0
        now = utcnow()
        with self.session() as s:
            keys = list(latest)
            ids: dict[str, int] = {}
            for i in range(0, len(keys), UPSERT_CHUNK):
                chunk = keys[i : i + UPSERT_CHUNK]
                q = select(FindingRow.key, FindingRow.id).where(FindingRow.key.in_(chunk))
                ids.update((k, i) for k, i in s.execute(q))
            inserts, updates = [], []
            for key, f in sorted(latest.items()):  # by key: the same records give the same row order
                row = {name: getattr(f, name) for name in FINDING_FIELDS}
                row["updated_at"] = now
                if key in ids:
                    updates.append({"id": ids[key], **row})
                else:
                    inserts.append({"key": key, **row})
            if inserts:  # Core executemany: the ORM's bulk path batches rows by which values are None
                s.execute(_FINDINGS.insert(), inserts)
            if updates:
                s.execute(update(FindingRow), updates)
        return len(findings)

    def findings(self, tenant: str | None = None, incident: str | None = None) -> list[FindingRow]:
        with self.session() as s:
            q = select(FindingRow)
            if tenant:
                q = q.where(FindingRow.tenant == tenant)
            if incident:
                q = q.where(FindingRow.incident_id == incident)
            rows = list(s.scalars(q.order_by(FindingRow.first_ts)))
        for r in rows:
            r.first_ts, r.last_ts = aware(r.first_ts), aware(r.last_ts)
        return rows

    # -- feedback --------------------------------------------------------------------------------------------
    def _suppressing(self, f: FindingRow | _Grouped, rules: list[FeedbackRow]) -> FeedbackRow | None:
        for rule in rules:
            if rule.verdict != "benign" or rule.tenant != f.tenant:
                continue
            same_server = (rule.server_ip is not None and rule.server_ip == f.dst_ip) or (
                rule.server_domain is not None
                and f.dst_domain is not None
                and registered_domain(rule.server_domain) == registered_domain(f.dst_domain)
            )
            if not same_server:
                continue
            if rule.scope == "server" or f.detector in (rule.detectors or []):
                return rule
        return None

    def feedback(self, incident_id: str, verdict: str, note: str = "", scope: str = "server") -> FeedbackRow:
        """Record an analyst verdict. ``benign`` suppresses look-alikes (same server, or same detectors + server
        with ``scope="detector"``) from now on and closes the incident; ``malicious`` confirms it and adds its
        server as a local indicator, so other hosts talking to it are found (a retro-hunt on the next run)."""
        if verdict not in ("benign", "malicious"):
            raise LeaktraceError(f"verdict must be 'benign' or 'malicious', not '{verdict}'")
        if scope not in ("server", "detector"):
            raise LeaktraceError(f"scope must be 'server' or 'detector', not '{scope}'")
        with self.session() as s:
            inc = self._get(s, incident_id)
            dets = sorted(
                {r.detector for r in s.scalars(select(FindingRow).where(FindingRow.incident_id == inc.id))}
            )
            row = FeedbackRow(
                tenant=inc.tenant,
                incident_id=inc.id,
                verdict=verdict,
                scope=scope,
                server_ip=inc.server_ip,
                server_domain=inc.server_domain,
                detectors=dets,
                note=note,
            )
            s.add(row)
            inc.verdict = verdict
            if verdict == "benign":
                self._set_status(s, inc, "closed", f"benign: {note}".strip())
            s.flush()
            fid = row.id
        if verdict == "malicious":
            extra = []
            if row.server_ip:
                extra.append(Indicator(type="ip", value=row.server_ip, source=f"feedback:{incident_id}"))
            if row.server_domain:
                extra.append(
                    Indicator(type="domain", value=row.server_domain, source=f"feedback:{incident_id}")
                )
            self.add_indicators(extra)
        with self.session() as s:
            got = s.get(FeedbackRow, fid)
            assert got is not None
            return got

    # -- incidents -------------------------------------------------------------------------------------------
    def regroup(
        self,
        tenant: str,
        params: IncidentParams | None = None,
        host_names: dict[str, str] | None = None,
        hosts: set[str] | None = None,
    ) -> list[IncidentRow]:
        """Rebuild the incidents of ``tenant`` from its findings; ids survive by (host, server, span). With
        ``hosts``, only those internal hosts are regrouped (an incremental run touches few hosts)."""
        p = params or IncidentParams()
        host_names = host_names or {}
        with self.session() as s:
            rules = list(s.scalars(select(FeedbackRow).where(FeedbackRow.tenant == tenant)))
            # plain rows (no ORM objects): evidence and record references are not needed to group and score
            fq = select(*[getattr(FindingRow, c) for c in GROUP_COLUMNS]).where(FindingRow.tenant == tenant)
            iq = select(IncidentRow).where(IncidentRow.tenant == tenant)
            if hosts is not None:
                fq = fq.where(FindingRow.src_ip.in_(sorted(hosts)))
                iq = iq.where(IncidentRow.host_ip.in_(sorted(hosts)))
            rows = [_Grouped(*r) for r in s.execute(fq)]
            live = []
            for r in rows:
                r.first_ts, r.last_ts = aware(r.first_ts), aware(r.last_ts)
                rule = self._suppressing(r, rules)
                r.suppressed_by = rule.id if rule else None
                r.incident_id = None
                if rule is None:
                    live.append(r)
            groups = group_with_host_findings(live, timedelta(hours=p.gap_hours), group_findings,
                                              join_kinds=set(p.host_join_kinds))
            existing = list(s.scalars(iq))
            for e in existing:
                e.start, e.end = aware(e.start), aware(e.end)
            used: set[str] = set()
            gap = timedelta(hours=p.gap_hours)
            by_host: dict[str, list[IncidentRow]] = {}
            for e in existing:
                by_host.setdefault(e.host_ip, []).append(e)
            next_n = self._max_id(s)
            scored = [(g, *score_group(g.findings, p)) for g in groups]
            scored = [(g, *host_context(g, score, why, groups, p)) for g, score, why in scored]
            for g, score, explanation in scored:
                if not is_incident(g.findings, score, p):
                    continue
                server_ip, server_domain = g.server_ip(), g.server_domain()
                inc = self._match(
                    by_host.get(g.host, []), used, g.host, server_ip, server_domain, g.start, g.end, gap
                )
                if inc is None:
                    next_n += 1
                    inc = IncidentRow(
                        id=f"INC-{next_n:04d}",
                        tenant=tenant,
                        status="new",
                        origin="analysis",
                        created_at=utcnow(),
                    )
                    s.add(inc)
                    existing.append(inc)
                    by_host.setdefault(g.host, []).append(inc)
                used.add(inc.id)
                kinds = sorted({f.kind for f in g.findings})
                if inc.verdict == "malicious":
                    explanation.append({"rule": "analyst verdict malicious", "floor": 0.8})
                    score = max(score, 0.8)
                inc.host_ip, inc.server_ip, inc.server_domain = g.host, server_ip, server_domain
                inc.host_name = host_names.get(g.host) or inc.host_name
                inc.start, inc.end = g.start, g.end
                inc.score, inc.severity, inc.kinds = score, severity(score), kinds
                inc.bytes_out = max(
                    (int(f.bytes_out or 0) for f in g.findings if f.kind == "exfiltration"),
                    default=max((int(f.bytes_out or 0) for f in g.findings), default=0),
                )
                inc.bytes_in = max((int(f.bytes_in or 0) for f in g.findings), default=0)
                inc.explanation, inc.active, inc.updated_at = explanation, True, utcnow()
                if "tip" in kinds and inc.origin == "analysis" and len(kinds) == 1:
                    inc.origin = "tip"
                for f in g.findings:
                    f.incident_id = inc.id
            for e in existing:
                if e.id not in used:
                    e.active = False
            changed = [
                {"id": r.id, "incident_id": r.incident_id, "suppressed_by": r.suppressed_by}
                for r in rows
                if (r.incident_id, r.suppressed_by) != (r.old_incident, r.old_suppressed)
            ]
            if changed:  # Core executemany by primary key (the ORM's bulk update costs ~20 µs a row in Python)
                t = _FINDINGS
                stmt = (
                    t.update()
                    .where(t.c.id == bindparam("b_id"))
                    .values(incident_id=bindparam("b_incident"), suppressed_by=bindparam("b_suppressed"))
                )
                s.execute(
                    stmt,
                    [{"b_id": c["id"], "b_incident": c["incident_id"], "b_suppressed": c["suppressed_by"]}
                     for c in changed],
                )
            s.flush()
        return self.incidents(tenant)

    @staticmethod
    def _match(
        existing: list[IncidentRow],
        used: set[str],
        host: str,
        ip: str | None,
        domain: str | None,
        start: datetime,
        end: datetime,
        gap: timedelta,
    ) -> IncidentRow | None:
        reg = registered_domain(domain) if domain else None
        for e in existing:
            if e.id in used or e.host_ip != host:
                continue
            same = (ip and e.server_ip == ip) or (
                reg and e.server_domain and registered_domain(e.server_domain) == reg
            ) or (not ip and not domain and not e.server_ip and not e.server_domain)  # host-only incidents
            if same and e.start <= end + gap and start <= e.end + gap:
                return e
        return None

    @staticmethod
    def _max_id(s: Session) -> int:
        ids = s.scalars(select(IncidentRow.id)).all()
        return max((int(i.split("-")[1]) for i in ids if i.startswith("INC-")), default=0)

    def incidents(self, tenant: str | None = None, include_inactive: bool = False) -> list[IncidentRow]:
        with self.session() as s:
            q = select(IncidentRow)
            if tenant:
                q = q.where(IncidentRow.tenant == tenant)
            if not include_inactive:
                q = q.where(IncidentRow.active.is_(True))
            rows = list(s.scalars(q))
        for r in rows:
            r.start, r.end = aware(r.start), aware(r.end)
        return sorted(rows, key=lambda r: (-r.score, r.id))

    def incident(self, incident_id: str) -> IncidentRow:
        with self.session() as s:
            row = self._get(s, incident_id)
        row.start, row.end = aware(row.start), aware(row.end)
        return row

    @staticmethod
    def _get(s: Session, incident_id: str) -> IncidentRow:
        row = s.get(IncidentRow, incident_id.upper())
        if row is None:
            raise NotFoundError(f"no incident '{incident_id}'")
        return row

    def history(self, incident_id: str) -> list[StatusEvent]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(StatusEvent)
                    .where(StatusEvent.incident_id == incident_id.upper())
                    .order_by(StatusEvent.id)
                )
            )

    def set_status(self, incident_id: str, status: str, note: str = "", actor: str = "") -> IncidentRow:
        """Move an incident along new → notified → contained → investigated → reported → closed (steps may be
        skipped; going back is refused; every change is recorded)."""
        with self.session() as s:
            inc = self._get(s, incident_id)
            self._set_status(s, inc, status, note, actor)
            return inc

    @staticmethod
    def _set_status(s: Session, inc: IncidentRow, status: str, note: str = "", actor: str = "") -> None:
        if status not in LIFECYCLE:
            raise LeaktraceError(f"unknown status '{status}' (one of: {', '.join(LIFECYCLE)})")
        if LIFECYCLE.index(status) < LIFECYCLE.index(inc.status):
            raise LeaktraceError(f"{inc.id} is '{inc.status}'; it cannot go back to '{status}'")
        if status != inc.status:
            s.add(StatusEvent(incident_id=inc.id, old=inc.status, new=status, note=note, actor=actor))
            inc.status = status
            inc.updated_at = utcnow()

    # -- indicators ------------------------------------------------------------------------------------------
    def add_indicators(self, items: list[Indicator]) -> int:
        added = 0
        with self.session() as s:
            have = {(r.type, r.value) for r in s.scalars(select(IndicatorRow))}
            for i in items:
                if i.key in have:
                    continue
                s.add(
                    IndicatorRow(
                        type=i.type,
                        value=i.value,
                        source=i.source,
                        confidence=i.confidence,
                        description=i.description,
                    )
                )
                have.add(i.key)
                added += 1
        return added

    def indicators(self) -> list[dict[str, Any]]:
        with self.session() as s:
            return [
                {
                    "type": r.type,
                    "value": r.value,
                    "source": r.source,
                    "confidence": r.confidence,
                    "description": r.description,
                }
                for r in s.scalars(select(IndicatorRow))
            ]

    # -- runs ------------------------------------------------------------------------------------------------
    def last_run(self, tenant: str) -> RunRow | None:
        with self.session() as s:
            return s.scalars(select(RunRow).where(RunRow.tenant == tenant).order_by(RunRow.id.desc())).first()

    def record_run(self, run: RunRow) -> None:
        with self.session() as s:
            s.add(run)
