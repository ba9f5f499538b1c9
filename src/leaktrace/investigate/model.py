"""What an investigation produces: the documents probably taken, a timeline, remote-control evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class DocRef(BaseModel):
    """An inventory document as attribution needs it (no text, no fingerprints)."""

    path: str
    sha256: str | None = None
    size: int = 0
    level: str | None = None
    level_rank: int = 0
    qualifiers: list[str] = Field(default_factory=list)
    people: int = 0
    pii_counts: dict[str, int] = Field(default_factory=dict)
    title: str | None = None


class Evidence(BaseModel):
    kind: str  # read-by-actor | archived-after-read | size-consistent | payload-hash | read-after-upload
    detail: str
    ts: datetime | None = None
    record: str | None = None  # source file and line of the event


class TakenDocument(BaseModel):
    kind: str = "document"  # document | archive | credential-dump | memory-dump (objects the actors staged)
    path: str  # as seen on the host (e.g. \\fileserver\share\...)
    inventory_path: str | None = None
    sha256: str | None = None
    size: int | None = None
    level: str | None = None
    level_rank: int = 0
    qualifiers: list[str] = Field(default_factory=list)
    people: int = 0
    pii_counts: dict[str, int] = Field(default_factory=dict)
    confidence: float
    first_read: datetime | None = None
    process: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)

    @property
    def taken(self) -> bool:
        return self.confidence >= 0.5


class TimelineEvent(BaseModel):
    ts: datetime
    phase: str  # initial-access | execution | command-and-control | discovery | collection | exfiltration …
    technique: str | None = None  # ATT&CK id, e.g. T1566.001
    description: str
    actor: str | None = None  # process image or user
    record: str | None = None


class RemoteControl(BaseModel):
    verdict: str  # remote-controlled | user | undetermined
    c2_servers: list[str] = Field(default_factory=list)
    actions: int = 0
    actions_by_implant: int = 0
    actions_with_c2_active: int = 0
    interactive_events_during: int = 0
    reasons: list[str] = Field(default_factory=list)


class Rollup(BaseModel):
    documents: int
    highest_level: str | None
    highest_rank: int
    by_level: dict[str, int]
    with_personal_data: int
    people: int
    bytes_read: int
    bytes_uploaded: int
    archive_bytes: int | None
    size_ratio: float | None  # bytes uploaded / bytes of the documents taken
    sentence: str


class Attribution(BaseModel):
    host_ip: str
    host: str | None
    servers: list[str]
    actor_processes: list[dict[str, Any]]
    documents: list[TakenDocument]
    objects: list[TakenDocument] = Field(
        default_factory=list, description="other objects the actors wrote and probably sent: archives, dumps")
    rollup: Rollup
    timeline: list[TimelineEvent]
    remote_control: RemoteControl
    notes: list[str] = Field(default_factory=list)

    def taken(self) -> list[TakenDocument]:
        return [d for d in self.documents if d.taken]
