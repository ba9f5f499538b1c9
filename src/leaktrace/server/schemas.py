"""Request and response bodies of the REST API (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr

from leaktrace.documents.model import DocumentRecord
from leaktrace.incidents.db import FindingRow, IncidentRow, StatusEvent
from leaktrace.investigate.model import Attribution, TakenDocument
from leaktrace.respond.db import ActionRow, AuditRow
from leaktrace.server.accounts import TokenInfo, UserInfo
from leaktrace.server.db import NoteRow, aware

Status = Literal["new", "notified", "contained", "investigated", "reported", "closed"]
Role = Literal["centre-analyst", "tenant-analyst", "tenant-viewer"]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    """Every error has this shape."""

    error: ErrorBody


class MeOut(BaseModel):
    name: str
    role: str
    roles: dict[str, str] = Field(description='tenant -> role; "" means every tenant (the centre)')
    tenants: list[str]
    via: str
    csrf_token: str | None = Field(default=None, description="send as X-CSRF-Token with cookie requests")


class LoginIn(BaseModel):
    name: str = Field(max_length=100)
    password: str = Field(max_length=1000)


class TokenIn(BaseModel):
    label: str = Field(default="", max_length=100)


class TokenOut(BaseModel):
    token: str = Field(description="shown once; only its SHA-256 is stored")
    label: str
    id: int = Field(description="to list or revoke it later (DELETE /api/v1/tokens/{id})")
    user: str
    prefix: str = Field(description="its first characters, as token lists show them")

    @classmethod
    def of(cls, token: str, t: TokenInfo) -> TokenOut:
        return cls(token=token, label=t.label, id=t.id, user=t.user, prefix=t.prefix)


class TokenInfoOut(BaseModel):
    """An API token as lists show it: never the token itself."""

    id: int
    user: str
    label: str
    prefix: str = Field(description="the token's first characters")
    created: datetime
    last_used: datetime | None
    revoked: bool

    @classmethod
    def of(cls, t: TokenInfo) -> TokenInfoOut:
        return cls(id=t.id, user=t.user, label=t.label, prefix=t.prefix, created=t.created, last_used=t.last_used,
                   revoked=t.revoked)


class UserOut(BaseModel):
    name: str
    role: str = Field(description="the strongest role, for display")
    roles: dict[str, str] = Field(description='tenant -> role; "" means every tenant (the centre)')
    active: bool
    has_password: bool = Field(description="may log in to the web UI (else API tokens only)")
    tokens: int = Field(description="API tokens not revoked")
    created: datetime

    @classmethod
    def of(cls, u: UserInfo) -> UserOut:
        return cls(name=u.name, role=u.role, roles=dict(u.roles), active=u.active, has_password=u.has_password,
                   tokens=u.tokens, created=u.created)


class UserIn(BaseModel):
    name: str = Field(max_length=100, description="letters, digits, . _ @ -")
    role: Role
    tenant: str | None = Field(default=None, max_length=100, description=(
        "the tenant of a tenant role (default for a tenant-analyst: its own); none for centre-analyst"))
    password: SecretStr | None = Field(default=None, max_length=1000, description=(
        "at least 10 characters; none: the user works with API tokens only. Never echoed or logged"))


class UserPatchIn(BaseModel):
    active: bool | None = Field(default=None, description="false disables the user: its sessions end at once "
                                                          "and its API tokens stop working")
    password: SecretStr | None = Field(default=None, max_length=1000, description=(
        "a new password (at least 10 characters; never echoed or logged); ends the user's open sessions when "
        "set for someone else"))


class TenantOut(BaseModel):
    name: str
    display_name: str
    role: str | None
    incidents_by_status: dict[str, int] | None = None


class IncidentOut(BaseModel):
    id: str
    tenant: str
    host_ip: str
    host_name: str | None
    server_ip: str | None
    server_domain: str | None
    start: datetime
    end: datetime
    score: float
    severity: str
    kinds: list[str]
    bytes_out: int
    bytes_in: int
    status: str
    verdict: str | None
    origin: str
    active: bool

    @classmethod
    def of(cls, r: IncidentRow) -> IncidentOut:
        return cls(id=r.id, tenant=r.tenant, host_ip=r.host_ip, host_name=r.host_name, server_ip=r.server_ip,
                   server_domain=r.server_domain, start=aware(r.start), end=aware(r.end), score=r.score,
                   severity=r.severity, kinds=list(r.kinds or []), bytes_out=int(r.bytes_out or 0),
                   bytes_in=int(r.bytes_in or 0), status=r.status, verdict=r.verdict, origin=r.origin,
                   active=bool(r.active))


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int
    limit: int
    offset: int


class FindingOut(BaseModel):
    key: str
    detector: str
    kind: str
    dst_ip: str | None
    dst_domain: str | None
    first_ts: datetime
    last_ts: datetime
    score: float
    severity: str
    bytes_out: int
    bytes_in: int
    conn_count: int
    summary: str
    evidence: dict[str, Any]

    @classmethod
    def of(cls, f: FindingRow) -> FindingOut:
        return cls(key=f.key, detector=f.detector, kind=f.kind, dst_ip=f.dst_ip, dst_domain=f.dst_domain,
                   first_ts=aware(f.first_ts), last_ts=aware(f.last_ts), score=f.score, severity=f.severity,
                   bytes_out=int(f.bytes_out or 0), bytes_in=int(f.bytes_in or 0), conn_count=int(f.conn_count or 0),
                   summary=f.summary or "", evidence=dict(f.evidence or {}))


class StatusChangeOut(BaseModel):
    at: datetime
    old: str
    new: str
    note: str
    actor: str

    @classmethod
    def of(cls, e: StatusEvent) -> StatusChangeOut:
        return cls(at=aware(e.at), old=e.old, new=e.new, note=e.note or "", actor=e.actor or "")


class IncidentDetail(IncidentOut):
    explanation: list[dict[str, Any]]
    findings: list[FindingOut]
    history: list[StatusChangeOut]


class StatusIn(BaseModel):
    status: Status
    note: str = Field(default="", max_length=2000)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class NoteOut(BaseModel):
    id: int
    incident_id: str
    author: str
    text: str
    created: datetime

    @classmethod
    def of(cls, n: NoteRow) -> NoteOut:
        return cls(id=n.id, incident_id=n.incident_id, author=n.author, text=n.text, created=aware(n.created))


class TakenDocumentOut(BaseModel):
    path: str
    inventory_path: str | None
    level: str | None
    level_rank: int
    confidence: float
    taken: bool
    size: int | None
    people: int
    pii_counts: dict[str, int]
    first_read: datetime | None
    process: str | None
    evidence: list[str]

    @classmethod
    def of(cls, d: TakenDocument) -> TakenDocumentOut:
        return cls(path=d.path, inventory_path=d.inventory_path, level=d.level, level_rank=d.level_rank,
                   confidence=d.confidence, taken=d.taken, size=d.size, people=d.people,
                   pii_counts=dict(d.pii_counts), first_read=d.first_read, process=d.process,
                   evidence=[f"{e.kind}: {e.detail}" for e in d.evidence])


class AttributionOut(BaseModel):
    incident_id: str
    available: bool
    sentence: str | None = None
    highest_level: str | None = None
    by_level: dict[str, int] = Field(default_factory=dict)
    documents: list[TakenDocumentOut] = Field(default_factory=list, description="documents probably taken")
    candidates: int = Field(default=0, description="documents considered, taken or not")
    remote_control: str | None = None
    notes: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, incident_id: str, a: Attribution | None, notes: list[str]) -> AttributionOut:
        if a is None:
            return cls(incident_id=incident_id, available=False, notes=notes)
        return cls(incident_id=incident_id, available=True, sentence=a.rollup.sentence,
                   highest_level=a.rollup.highest_level, by_level=dict(a.rollup.by_level),
                   documents=[TakenDocumentOut.of(d) for d in a.taken()], candidates=len(a.documents),
                   remote_control=a.remote_control.verdict, notes=[*notes, *a.notes])


class DocumentOut(BaseModel):
    doc_id: str
    path: str
    container: str | None
    size: int
    format: str
    status: str
    title: str | None
    level: str | None
    level_rank: int
    qualifiers: list[str]
    confidence: float
    pii_counts: dict[str, int]
    people_estimate: int
    sha256: str

    @classmethod
    def of(cls, d: DocumentRecord) -> DocumentOut:
        return cls(doc_id=d.doc_id, path=d.path, container=d.container, size=d.size, format=d.format,
                   status=str(d.status), title=d.title, level=d.level, level_rank=d.level_rank,
                   qualifiers=list(d.qualifiers), confidence=d.confidence, pii_counts=dict(d.pii_counts),
                   people_estimate=d.people_estimate, sha256=d.sha256)


class DocumentPage(BaseModel):
    tenant: str
    items: list[DocumentOut]
    total: int
    limit: int
    offset: int


class BlockIn(BaseModel):
    expire: str | None = Field(default=None, max_length=20, description='e.g. "7d", "12h", "never"')
    reason: str = Field(default="", max_length=500)


class UnblockIn(BaseModel):
    reason: str = Field(default="", max_length=500)


class BlockOut(BaseModel):
    id: str
    target: str
    target_kind: str
    backends: list[str]
    status: str
    incident_id: str | None
    tenant: str | None
    reason: str
    requested_by: str
    approved_by: str | None
    created: datetime
    expires: datetime | None
    removed: datetime | None
    error: str | None

    @classmethod
    def of(cls, a: ActionRow, tenant: str | None) -> BlockOut:
        return cls(id=a.public_id, target=a.target, target_kind=a.target_kind, backends=a.backends,
                   status=a.status, incident_id=a.incident_id, tenant=tenant, reason=a.reason or "",
                   requested_by=a.requested_by or "", approved_by=a.approved_by, created=a.created,
                   expires=a.expires, removed=a.removed, error=a.error)


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    event: str
    action_id: int | None
    incident_id: str | None
    tenant: str | None
    target: str
    backend: str
    rule_text: str
    reason: str
    hash: str

    @classmethod
    def of(cls, e: AuditRow, tenant: str | None) -> AuditOut:
        return cls(id=e.id, at=e.at, actor=e.actor, event=e.event, action_id=e.action_id,
                   incident_id=e.incident_id, tenant=tenant, target=e.target, backend=e.backend,
                   rule_text=e.rule_text, reason=e.reason, hash=e.hash)


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int
    limit: int
    offset: int
    chain_ok: bool | None = Field(description="the hash chain verifies (shown to the centre only)")
