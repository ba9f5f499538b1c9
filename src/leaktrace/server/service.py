"""What the API and the web UI do, as plain functions of (context, principal, arguments): tenant checks, the
lifecycle, notes, attribution, blocks, the audit log, reports and account management (whose rules live in
:class:`leaktrace.server.accounts.AccountManager`). Routes only translate HTTP to these calls.

A tenant user asking for another tenant's object gets the same :class:`NotFoundError` as for a missing one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from leaktrace.documents.model import DocumentRecord
from leaktrace.documents.store import Inventory
from leaktrace.errors import ConflictError, LeaktraceError, NotFoundError
from leaktrace.incidents.db import FindingRow, IncidentRow, StatusEvent
from leaktrace.incidents.scoring import LIFECYCLE
from leaktrace.incidents.store import Store
from leaktrace.investigate.model import Attribution
from leaktrace.report.model import ReportData
from leaktrace.respond.db import OPEN_STATUSES, ActionRow, AuditRow
from leaktrace.respond.incidents import target_from_incident
from leaktrace.respond.runner import CommandRunner
from leaktrace.respond.service import Responder
from leaktrace.respond.store import ActionStore, parse_action_id
from leaktrace.server.accounts import Accounts, TokenInfo, UserInfo
from leaktrace.server.db import NoteRow, utcnow
from leaktrace.server.principal import Principal
from leaktrace.server.settings import ServerSettings
from leaktrace.workspace import Workspace

SEVERITIES = ["low", "medium", "high", "critical"]
SORT_KEYS = ("score", "severity", "start", "end", "bytes_out", "id", "status", "tenant")
REPORT_FORMATS = ("html", "pdf", "md", "json", "stix", "notice")
MAX_NOTE = 10_000


@dataclass
class Context:
    """The workspace and its stores, opened once per server."""

    ws: Workspace
    store: Store
    actions: ActionStore
    accounts: Accounts
    settings: ServerSettings
    runner: CommandRunner | None = None
    _responders: dict[str, Responder] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pages: dict[tuple[Any, ...], tuple[float, ReportData]] = field(default_factory=dict)

    @classmethod
    def open(cls, ws: Workspace, runner: CommandRunner | None = None,
             settings: ServerSettings | None = None) -> Context:
        actions = ActionStore.for_workspace(ws)
        return cls(ws=ws, store=Store.for_workspace(ws), actions=actions,
                   accounts=Accounts.for_workspace(ws, actions),
                   settings=settings or getattr(ws.config, "server", None) or ServerSettings(), runner=runner)

    def responder(self, tenant: str) -> Responder:
        """The workspace's responder with the tenant's internal networks protected."""
        if tenant not in self._responders:
            r = Responder.for_workspace(self.ws, runner=self.runner)
            r.internal = list(self.ws.config.internal_networks(tenant))
            self._responders[tenant] = r
        return self._responders[tenant]


# -- tenants ---------------------------------------------------------------------------------------------------
def tenants(ctx: Context, who: Principal) -> list[dict[str, Any]]:
    rows = ctx.accounts.tenants()
    return [{"name": t.name, "display_name": t.display_name or t.name, "role": who.tenant_role(t.name)}
            for t in rows if who.can_read(t.name)]


def tenant(ctx: Context, who: Principal, name: str) -> dict[str, Any]:
    for t in tenants(ctx, who):
        if t["name"] == name:
            counts: dict[str, int] = {}
            for inc in ctx.store.incidents(name):
                counts[inc.status] = counts.get(inc.status, 0) + 1
            return {**t, "incidents_by_status": counts}
    raise NotFoundError(f"no tenant '{name}'")


# -- incidents -------------------------------------------------------------------------------------------------
@dataclass
class IncidentQuery:
    status: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    tenant: str | None = None
    q: str | None = None
    sort: str = "score"
    order: str = "desc"
    limit: int = 50
    offset: int = 0


def _sort_key(name: str) -> Any:
    if name == "severity":
        return lambda r: (SEVERITIES.index(r.severity) if r.severity in SEVERITIES else -1, r.score)
    if name == "status":
        return lambda r: LIFECYCLE.index(r.status) if r.status in LIFECYCLE else -1
    return lambda r: getattr(r, name)


def _matches(r: IncidentRow, text: str) -> bool:
    hay = " ".join(str(x) for x in (r.id, r.tenant, r.host_ip, r.host_name, r.server_ip, r.server_domain,
                                    " ".join(r.kinds or []), r.status, r.severity) if x)
    return all(word in hay.lower() for word in text.lower().split())


def incidents(ctx: Context, who: Principal, query: IncidentQuery) -> tuple[list[IncidentRow], int]:
    """The incidents this principal may see, filtered, searched, sorted and paged; and how many matched."""
    if query.sort not in SORT_KEYS:
        raise LeaktraceError(f"cannot sort by '{query.sort}' (one of: {', '.join(SORT_KEYS)})")
    if query.tenant is not None and not who.can_read(query.tenant):
        return [], 0
    rows = [r for r in ctx.store.incidents(query.tenant) if who.can_read(r.tenant)]
    if query.status:
        rows = [r for r in rows if r.status in query.status]
    if query.severity:
        rows = [r for r in rows if r.severity in query.severity]
    if query.kind:
        rows = [r for r in rows if set(r.kinds or []) & set(query.kind)]
    if query.q:
        rows = [r for r in rows if _matches(r, query.q)]
    rows.sort(key=lambda r: r.id)
    rows.sort(key=_sort_key(query.sort), reverse=query.order == "desc")
    return rows[query.offset: query.offset + query.limit], len(rows)


def incident(ctx: Context, who: Principal, incident_id: str) -> IncidentRow:
    try:
        row = ctx.store.incident(incident_id)
    except NotFoundError:
        raise NotFoundError(f"no incident '{incident_id}'") from None
    who.check_read(row.tenant, f"incident '{incident_id}'")
    return row


def findings(ctx: Context, who: Principal, incident_id: str) -> list[FindingRow]:
    row = incident(ctx, who, incident_id)
    return ctx.store.findings(incident=row.id)


def history(ctx: Context, who: Principal, incident_id: str) -> list[StatusEvent]:
    row = incident(ctx, who, incident_id)
    return ctx.store.history(row.id)


def set_status(ctx: Context, who: Principal, incident_id: str, status: str, note: str = "") -> IncidentRow:
    """Move the incident along the lifecycle (never back), recorded in its history and the audit log."""
    row = incident(ctx, who, incident_id)
    who.check_write(row.tenant, f"incident '{incident_id}'")
    if status not in LIFECYCLE:
        raise LeaktraceError(f"unknown status '{status}' (one of: {', '.join(LIFECYCLE)})")
    if LIFECYCLE.index(status) < LIFECYCLE.index(row.status):
        raise ConflictError(f"{row.id} is '{row.status}'; it cannot go back to '{status}'")
    old = row.status
    out = ctx.store.set_status(row.id, status, note=note, actor=who.name)
    if old != status:
        ctx.actions.audit("status", who.name, incident_id=row.id, reason=f"{old} -> {status}")
    return out


# -- notes -----------------------------------------------------------------------------------------------------
def notes(ctx: Context, who: Principal, incident_id: str) -> list[NoteRow]:
    row = incident(ctx, who, incident_id)
    with ctx.accounts.session() as s:
        return list(s.scalars(select(NoteRow).where(NoteRow.incident_id == row.id).order_by(NoteRow.id)))


def add_note(ctx: Context, who: Principal, incident_id: str, text: str) -> NoteRow:
    """Add an analyst's note; the audit log records that a note was added, not what it says."""
    row = incident(ctx, who, incident_id)
    who.check_write(row.tenant, f"incident '{incident_id}'")
    text = text.strip()
    if not text:
        raise LeaktraceError("a note cannot be empty")
    if len(text) > MAX_NOTE:
        raise LeaktraceError(f"a note has at most {MAX_NOTE:,} characters")
    with ctx.accounts.session() as s:
        note = NoteRow(incident_id=row.id, tenant=row.tenant, author=who.name, text=text, created=utcnow())
        s.add(note)
        s.flush()
    ctx.actions.audit("note", who.name, incident_id=row.id, reason=f"note {note.id} added ({len(text)} characters)")
    return note


# -- attribution and reports -----------------------------------------------------------------------------------
def attribution(ctx: Context, who: Principal, incident_id: str) -> tuple[Attribution | None, list[str]]:
    """The documents the incident probably took (level, confidence, evidence), as the report computes it."""
    from leaktrace.investigate import attribute
    from leaktrace.investigate.loader import inventory_refs, load_case

    row = incident(ctx, who, incident_id)
    try:
        case = load_case(ctx.ws, row.host_ip, [row.server_ip] if row.server_ip else [],
                         [row.server_domain] if row.server_domain else [], row.start, row.end, tenant=row.tenant)
        return attribute(case, inventory_refs(ctx.ws, row.tenant)), []
    except LeaktraceError as exc:
        return None, [f"attribution not available: {exc}"]


def report_data(ctx: Context, who: Principal, incident_id: str, with_attribution: bool = True,
                hash_sources: bool = True) -> ReportData:
    from leaktrace.report import build_report_data

    row = incident(ctx, who, incident_id)
    return build_report_data(ctx.ws, row.id, attribution=with_attribution, hash_sources=hash_sources)


PAGE_CACHE_SECONDS, PAGE_CACHE_SIZE = 300.0, 32


def page_data(ctx: Context, who: Principal, incident_id: str) -> ReportData:
    """What the incident page shows (the report's data), kept for a few minutes while the incident and its
    actions do not change: gathering it reads the lake and runs the attribution (the raw source files are not
    hashed for a screen; downloaded reports hash them)."""
    row = incident(ctx, who, incident_id)
    acts = ctx.actions.actions(incident_id=row.id)
    key = (row.id, row.updated_at, row.status, tuple((a.id, a.status) for a in acts))
    now = time.monotonic()
    hit = ctx._pages.get(key)
    if hit is not None and now - hit[0] < PAGE_CACHE_SECONDS:
        return hit[1]
    data = report_data(ctx, who, row.id, hash_sources=False)
    with ctx._lock:
        for old in [k for k, (t, _) in ctx._pages.items() if now - t >= PAGE_CACHE_SECONDS or k[0] == row.id]:
            ctx._pages.pop(old, None)
        while len(ctx._pages) >= PAGE_CACHE_SIZE:
            ctx._pages.pop(next(iter(ctx._pages)))
        ctx._pages[key] = (now, data)
    return data


def report(ctx: Context, who: Principal, incident_id: str, fmt: str, lang: str) -> tuple[bytes, str, str]:
    """A report of the incident: (body, media type, file name)."""
    from leaktrace.report import formats, render

    if fmt not in REPORT_FORMATS:
        raise LeaktraceError(f"unknown report format '{fmt}' (one of: {', '.join(REPORT_FORMATS)})")
    spec = formats.get(fmt)
    data = report_data(ctx, who, incident_id)
    settings = ctx.ws.config.report
    body = render(data, fmt, lang=lang, redaction=settings.redaction)
    suffix = "stix.json" if fmt == "stix" else spec.extension
    return body, spec.media_type, f"{data.incident.id}-{lang}.{suffix}"


# -- documents -------------------------------------------------------------------------------------------------
def inventory_tenant(ctx: Context, who: Principal, tenant: str | None = None) -> str:
    """Whose document inventory a request reads: ``tenant`` if asked for (another tenant's is a 404, as for a
    missing one); else the workspace's tenant for the centre and its members, or the caller's own tenant."""
    if tenant:
        who.check_read(tenant, f"document inventory of tenant '{tenant}'")
        if tenant not in ctx.accounts.tenant_names():
            raise NotFoundError(f"no document inventory of tenant '{tenant}'")
        return tenant
    if who.can_read(ctx.ws.tenant):
        return ctx.ws.tenant
    own = sorted(t for t in who.roles if t)
    if not own:
        raise NotFoundError("no document inventory")
    return own[0]


def documents(ctx: Context, who: Principal, level: str | None = None, q: str | None = None,
              limit: int = 200, offset: int = 0, tenant: str | None = None) -> tuple[str, list[DocumentRecord], int]:
    """One tenant's document inventory (see :func:`inventory_tenant`) with its levels; no text, no fingerprints."""
    owner = inventory_tenant(ctx, who, tenant)
    with Inventory(ctx.ws, owner) as inv:
        rows = inv.all(level=level)
    if q:
        words = q.lower().split()
        rows = [r for r in rows if all(w in f"{r.path} {r.title or ''} {r.level or ''}".lower() for w in words)]
    rows.sort(key=lambda r: (-r.level_rank, r.path))
    return owner, rows[offset: offset + limit], len(rows)


# -- blocks ----------------------------------------------------------------------------------------------------
def incident_tenants(ctx: Context) -> dict[str, str]:
    """Incident id -> tenant, for everything that belongs to a tenant through its incident."""
    return {r.id: r.tenant for r in ctx.store.incidents(include_inactive=True)}


def action_tenant(row: ActionRow, tenants_by_incident: dict[str, str]) -> str | None:
    return tenants_by_incident.get(row.incident_id or "")


def blocks(ctx: Context, who: Principal, status: list[str] | None = None,
           incident_id: str | None = None) -> list[tuple[ActionRow, str | None]]:
    """Block actions this principal may see (an action's tenant is its incident's; manual ones: centre only)."""
    with ctx._lock:
        ctx.responder(ctx.ws.tenant).expire_due()
    by_incident = incident_tenants(ctx)
    if incident_id is not None:
        incident_id = incident(ctx, who, incident_id).id
    rows = ctx.actions.actions(status=status or None, kind="block", incident_id=incident_id)
    out = [(r, action_tenant(r, by_incident)) for r in rows]
    return [(r, t) for r, t in out if who.can_read(t)]


def block(ctx: Context, who: Principal, incident_id: str, expire: str | None = None,
          reason: str = "") -> list[ActionRow]:
    """Block the incident's server with the workspace's policy, allowlist and backends (audited)."""
    row = incident(ctx, who, incident_id)
    who.check_write(row.tenant, f"incident '{incident_id}'")
    with ctx._lock:
        outcome = ctx.responder(row.tenant).block(target_from_incident(row), expire=expire,
                                                   reason=reason or f"blocked from the web by {who.name}",
                                                   user=who.name)
    return outcome.actions


def unblock_incident(ctx: Context, who: Principal, incident_id: str, reason: str = "") -> list[ActionRow]:
    """Roll back every open block of the incident (audited)."""
    row = incident(ctx, who, incident_id)
    who.check_write(row.tenant, f"incident '{incident_id}'")
    values = {v for v in (row.server_ip, row.server_domain) if v}
    open_rows = [a for a in ctx.actions.actions(status=OPEN_STATUSES, kind="block")
                 if a.incident_id == row.id or a.target in values]
    if not open_rows:
        raise ConflictError(f"{row.id} has no open block")
    out: list[ActionRow] = []
    with ctx._lock:
        r = ctx.responder(row.tenant)
        for a in open_rows:
            out += r.unblock(a.id, user=who.name, reason=reason or f"unblocked from the web by {who.name}")
    return out


def _writable_block(ctx: Context, who: Principal, action_id: str) -> tuple[ActionRow, str | None]:
    """The block ``action_id`` and its tenant, if ``who`` may change it (else 404 / 403)."""
    try:
        row = ctx.actions.get(parse_action_id(action_id))
    except LeaktraceError:
        raise NotFoundError(f"no block '{action_id}'") from None
    owner = action_tenant(row, incident_tenants(ctx))
    who.check_write(owner, f"block '{action_id}'")
    if row.kind != "block":
        raise NotFoundError(f"no block '{action_id}'")
    return row, owner


def unblock_action(ctx: Context, who: Principal, action_id: str, reason: str = "") -> ActionRow:
    row, owner = _writable_block(ctx, who, action_id)
    with ctx._lock:
        (out,) = ctx.responder(owner or ctx.ws.tenant).unblock(row.id, user=who.name,
                                                              reason=reason or f"unblocked by {who.name}")
    return out


def approve_action(ctx: Context, who: Principal, action_id: str) -> ActionRow:
    """Apply a pending (or suggested) block, recording who approved it (``[respond] mode = "approve"``)."""
    row, owner = _writable_block(ctx, who, action_id)
    with ctx._lock:
        return ctx.responder(owner or ctx.ws.tenant).approve(row.id, user=who.name)


# -- audit -----------------------------------------------------------------------------------------------------
def audit_tenant(entry: AuditRow, by_incident: dict[str, str], action_incident: dict[int, str | None]) -> str | None:
    """The tenant an audit entry belongs to: its incident's, its action's incident's, or named in its target."""
    if entry.incident_id and entry.incident_id in by_incident:
        return by_incident[entry.incident_id]
    if entry.action_id is not None:
        inc = action_incident.get(entry.action_id)
        if inc and inc in by_incident:
            return by_incident[inc]
    if entry.target.startswith("tenant:"):
        return entry.target[len("tenant:"):].split("/", 1)[0]
    return None


def audit(ctx: Context, who: Principal, limit: int = 100, offset: int = 0,
          event: str | None = None) -> tuple[list[tuple[AuditRow, str | None]], int, bool | None]:
    """Audit entries, newest first: every one for the centre, the tenant's own for tenant users; and, for the
    centre, whether the hash chain verifies."""
    entries = ctx.actions.audit_entries()
    by_incident = incident_tenants(ctx)
    action_incident = {a.id: a.incident_id for a in ctx.actions.actions()}
    tagged = [(e, audit_tenant(e, by_incident, action_incident)) for e in entries]
    visible = [(e, t) for e, t in reversed(tagged) if who.can_read(t) and (event is None or e.event == event)]
    chain = ctx.actions.verify_audit().ok if who.is_centre else None
    return visible[offset: offset + limit], len(visible), chain


def new_token(ctx: Context, who: Principal, label: str = "") -> tuple[str, TokenInfo]:
    """An API token for the caller itself (any role): (the token, shown once; its listing)."""
    return ctx.accounts.issue_token(who.name, label=label, actor=who.name)


# -- accounts --------------------------------------------------------------------------------------------------
def users(ctx: Context, who: Principal) -> list[UserInfo]:
    """The accounts ``who`` manages (every one for the centre, its tenant's for a tenant analyst; 403 else)."""
    return ctx.accounts.managed_by(who).users()


def account_choices(ctx: Context, who: Principal) -> tuple[list[str], list[str]]:
    """The roles ``who`` may give a new user and the tenants it may create users in (for the web form)."""
    manager = ctx.accounts.managed_by(who)
    return manager.roles_offered(), manager.tenants_offered()


def user(ctx: Context, who: Principal, name: str) -> UserInfo:
    return ctx.accounts.managed_by(who).user(name)


def add_user(ctx: Context, who: Principal, name: str, role: str, tenant: str | None = None,
             password: str | None = None) -> UserInfo:
    return ctx.accounts.managed_by(who).add_user(name, role, tenant, password)


def update_user(ctx: Context, who: Principal, name: str, active: bool | None = None,
                password: str | None = None) -> UserInfo:
    return ctx.accounts.managed_by(who).update(name, active=active, password=password)


def user_tokens(ctx: Context, who: Principal, name: str) -> list[TokenInfo]:
    return ctx.accounts.managed_by(who).tokens(name)


def create_user_token(ctx: Context, who: Principal, name: str, label: str = "") -> tuple[str, TokenInfo]:
    return ctx.accounts.managed_by(who).create_token(name, label)


def revoke_token(ctx: Context, who: Principal, token_id: int) -> TokenInfo:
    return ctx.accounts.managed_by(who).revoke_token(token_id)
