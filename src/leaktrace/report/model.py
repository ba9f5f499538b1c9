"""The report model: everything a report says, built once (``build_report_data``) and rendered by pure functions.

No document text ever enters it: documents appear with their path, hash, size, level, confidence and counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from leaktrace.investigate.model import Attribution
from leaktrace.report.settings import Tlp

SCHEMA_VERSION = 1


class StatusChange(BaseModel):
    at: datetime | None = None
    old: str
    new: str
    note: str = ""
    actor: str = ""


class IncidentSummary(BaseModel):
    id: str
    tenant: str
    host_ip: str
    host_name: str | None = None
    host_user: str | None = None
    server_ip: str | None = None
    server_domain: str | None = None
    start: datetime
    end: datetime
    score: float
    severity: str
    kinds: list[str] = Field(default_factory=list)
    bytes_out: int = 0
    bytes_in: int = 0
    status: str = "new"
    origin: str = "analysis"
    explanation: list[dict[str, Any]] = Field(default_factory=list)
    history: list[StatusChange] = Field(default_factory=list)

    @property
    def server(self) -> str:
        return self.server_domain or self.server_ip or "?"

    @property
    def host(self) -> str:
        return f"{self.host_name} ({self.host_ip})" if self.host_name else self.host_ip


class FindingSummary(BaseModel):
    detector: str
    kind: str
    dst_ip: str | None = None
    dst_domain: str | None = None
    first_ts: datetime
    last_ts: datetime
    score: float
    severity: str
    bytes_out: int = 0
    bytes_in: int = 0
    conn_count: int = 0
    summary: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)


class ActionSummary(BaseModel):
    id: str  # ACT-0001
    kind: str  # block | unblock | isolate
    target: str
    target_kind: str = ""
    status: str
    backends: list[str] = Field(default_factory=list)
    rule_text: str = ""
    reason: str = ""
    requested_by: str = ""
    approved_by: str | None = None
    created: datetime
    expires: datetime | None = None
    removed: datetime | None = None


class TrafficBucket(BaseModel):
    start: datetime
    bytes_out: int = 0
    bytes_in: int = 0
    connections: int = 0


class ChartData(BaseModel):
    bucket_seconds: int = 3600
    traffic: list[TrafficBucket] = Field(default_factory=list)  # host <-> server, per bucket
    beacon_intervals: list[float] = Field(default_factory=list)  # seconds between connection starts


class EvidenceItem(BaseModel):
    kind: str  # record-set | source-file | document
    name: str
    sha256: str | None = None
    size: int | None = None
    detail: str = ""


class Records(BaseModel):
    """The underlying records, for the evidence package (not rendered in the reports themselves)."""

    findings: list[dict[str, Any]] = Field(default_factory=list)
    flows: list[dict[str, Any]] = Field(default_factory=list)


class ReportData(BaseModel):
    schema_version: int = SCHEMA_VERSION
    generated_at: datetime
    tenant: str
    organisation: str
    contact: str | None = None
    tlp: Tlp = "amber"
    internal_networks: list[str] = Field(default_factory=list)  # the tenant's own networks (for redaction)
    incident: IncidentSummary
    findings: list[FindingSummary] = Field(default_factory=list)
    attribution: Attribution | None = None
    actions: list[ActionSummary] = Field(default_factory=list)
    charts: ChartData = Field(default_factory=ChartData)
    ja3: list[str] = Field(default_factory=list)
    evidence: list[EvidenceItem] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    records: Records = Field(default_factory=Records)

    def documents_by_level(self) -> dict[str, int]:
        if self.attribution is None:
            return {}
        return dict(self.attribution.rollup.by_level)

    def pii_totals(self) -> dict[str, int]:
        """Personal data items per kind over the documents taken."""
        out: dict[str, int] = {}
        if self.attribution is None:
            return out
        for d in self.attribution.taken():
            for kind, n in d.pii_counts.items():
                out[kind] = out.get(kind, 0) + n
        return dict(sorted(out.items()))

    def report_json(self) -> dict[str, Any]:
        """The JSON form of the report (records left out: they go to the evidence package)."""
        return self.model_dump(mode="json", exclude={"records"})
