"""The REST API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``). Thin: each route calls :mod:`service`.

Accounts (``/users``, ``/users/{name}``, ``/users/{name}/tokens``, ``/tokens/{id}``): a centre-analyst manages
every account; a tenant-analyst only the accounts whose roles all lie in its own tenant, and creates only
tenant-analyst or tenant-viewer users of that tenant (any other account, and its tokens, answer 404 to it, as
another tenant's incident does); a tenant-viewer manages nothing (403). Nobody disables themselves and the last
active centre-analyst stays enabled (409). Every change is audited with the caller as the actor; passwords are
never echoed or logged, a token is shown once. Cookie requests need the CSRF token like every other change.
The rules live in :class:`leaktrace.server.accounts.AccountManager`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import SecretStr

from leaktrace.server import service
from leaktrace.server.auth import SESSION_COOKIE, Ctx, Who
from leaktrace.server.principal import Principal
from leaktrace.server.schemas import (
    AttributionOut,
    AuditOut,
    AuditPage,
    BlockIn,
    BlockOut,
    DocumentOut,
    DocumentPage,
    ErrorOut,
    FindingOut,
    IncidentDetail,
    IncidentOut,
    IncidentPage,
    LoginIn,
    MeOut,
    NoteIn,
    NoteOut,
    StatusChangeOut,
    StatusIn,
    TenantOut,
    TokenIn,
    TokenInfoOut,
    TokenOut,
    UnblockIn,
    UserIn,
    UserOut,
    UserPatchIn,
)

PREFIX = "/api/v1"
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 422)
}
router = APIRouter(prefix=PREFIX, responses=ERRORS)


def set_session_cookie(response: Response, session_id: str, max_age: int, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, session_id, max_age=max_age, httponly=True, samesite="lax",
                        secure=secure, path="/")


# -- session and identity --------------------------------------------------------------------------------------
@router.post("/session", response_model=MeOut, tags=["auth"], summary="Log in (browser session cookie)")
def login(body: LoginIn, response: Response, ctx: Ctx) -> MeOut:
    who, new = ctx.accounts.login(body.name, body.password, ctx.settings.session_hours)
    set_session_cookie(response, new.session_id, int(ctx.settings.session_hours * 3600), ctx.settings.secure_cookies)
    return MeOut(name=who.name, role=who.role, roles=who.roles, tenants=who.tenants(ctx.accounts.tenant_names()),
                 via="session", csrf_token=new.csrf_token)


@router.delete("/session", status_code=204, tags=["auth"], summary="Log out")
def logout(request: Request, who: Who, ctx: Ctx) -> Response:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        ctx.accounts.logout(sid)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=MeOut, tags=["auth"], summary="Who am I")
def me(request: Request, who: Who, ctx: Ctx) -> MeOut:
    return MeOut(name=who.name, role=who.role, roles=who.roles, tenants=who.tenants(ctx.accounts.tenant_names()),
                 via=who.via, csrf_token=getattr(request.state, "csrf_token", None))


@router.post("/me/tokens", response_model=TokenOut, status_code=201, tags=["auth"],
             summary="Create an API token for myself (shown once)")
def create_token(body: TokenIn, who: Who, ctx: Ctx) -> TokenOut:
    return TokenOut.of(*service.new_token(ctx, who, body.label))


# -- accounts --------------------------------------------------------------------------------------------------
def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


@router.get("/users", response_model=list[UserOut], tags=["accounts"],
            summary="The accounts I manage: every one for the centre, my tenant's for a tenant-analyst")
def users(who: Who, ctx: Ctx) -> list[UserOut]:
    return [UserOut.of(u) for u in service.users(ctx, who)]


@router.post("/users", response_model=UserOut, status_code=201, tags=["accounts"],
             summary="Create a user (a tenant-analyst: tenant-analyst or tenant-viewer of its tenant; audited)")
def add_user(body: UserIn, who: Who, ctx: Ctx) -> UserOut:
    return UserOut.of(service.add_user(ctx, who, body.name, body.role, body.tenant, _secret(body.password)))


@router.get("/users/{name}", response_model=UserOut, tags=["accounts"], summary="One account I manage")
def user(name: str, who: Who, ctx: Ctx) -> UserOut:
    return UserOut.of(service.user(ctx, who, name))


@router.patch("/users/{name}", response_model=UserOut, tags=["accounts"],
              summary="Enable or disable a user, set its password (never echoed; audited)")
def update_user(name: str, body: UserPatchIn, who: Who, ctx: Ctx) -> UserOut:
    return UserOut.of(service.update_user(ctx, who, name, body.active, _secret(body.password)))


@router.get("/users/{name}/tokens", response_model=list[TokenInfoOut], tags=["accounts"],
            summary="A user's API tokens (their first characters, never the tokens)")
def user_tokens(name: str, who: Who, ctx: Ctx) -> list[TokenInfoOut]:
    return [TokenInfoOut.of(t) for t in service.user_tokens(ctx, who, name)]


@router.post("/users/{name}/tokens", response_model=TokenOut, status_code=201, tags=["accounts"],
             summary="Create an API token for a user (shown once; audited)")
def create_user_token(name: str, body: TokenIn, who: Who, ctx: Ctx) -> TokenOut:
    return TokenOut.of(*service.create_user_token(ctx, who, name, body.label))


@router.delete("/tokens/{token_id}", response_model=TokenInfoOut, tags=["accounts"],
               summary="Revoke an API token at once (audited; revoking it again changes nothing)")
def revoke_token(token_id: int, who: Who, ctx: Ctx) -> TokenInfoOut:
    return TokenInfoOut.of(service.revoke_token(ctx, who, token_id))


# -- tenants ---------------------------------------------------------------------------------------------------
@router.get("/tenants", response_model=list[TenantOut], tags=["tenants"])
def tenants(who: Who, ctx: Ctx) -> list[TenantOut]:
    return [TenantOut(**t) for t in service.tenants(ctx, who)]


@router.get("/tenants/{name}", response_model=TenantOut, tags=["tenants"])
def tenant(name: str, who: Who, ctx: Ctx) -> TenantOut:
    return TenantOut(**service.tenant(ctx, who, name))


# -- incidents -------------------------------------------------------------------------------------------------
@router.get("/incidents", response_model=IncidentPage, tags=["incidents"],
            summary="Incidents: filter, search, sort, page")
def incidents(
    who: Who, ctx: Ctx,
    status: Annotated[list[str] | None, Query(description="repeatable")] = None,
    severity: Annotated[list[str] | None, Query(description="repeatable: low, medium, high, critical")] = None,
    kind: Annotated[list[str] | None, Query(description="repeatable: exfiltration, c2, …")] = None,
    tenant: str | None = None,
    q: Annotated[str | None, Query(max_length=200, description="words found in id, host, server, kinds")] = None,
    sort: Literal["score", "severity", "start", "end", "bytes_out", "id", "status", "tenant"] = "score",
    order: Literal["asc", "desc"] = "desc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> IncidentPage:
    query = service.IncidentQuery(status=status or [], severity=severity or [], kind=kind or [], tenant=tenant,
                                  q=q, sort=sort, order=order, limit=limit, offset=offset)
    rows, total = service.incidents(ctx, who, query)
    return IncidentPage(items=[IncidentOut.of(r) for r in rows], total=total, limit=limit, offset=offset)


def _detail(ctx: service.Context, who: Principal, incident_id: str) -> IncidentDetail:
    row = service.incident(ctx, who, incident_id)
    base = IncidentOut.of(row).model_dump()
    return IncidentDetail(**base, explanation=list(row.explanation or []),
                          findings=[FindingOut.of(f) for f in ctx.store.findings(incident=row.id)],
                          history=[StatusChangeOut.of(e) for e in ctx.store.history(row.id)])


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, tags=["incidents"],
            summary="One incident with its findings, score explanation and status history")
def incident(incident_id: str, who: Who, ctx: Ctx) -> IncidentDetail:
    return _detail(ctx, who, incident_id)


@router.patch("/incidents/{incident_id}", response_model=IncidentDetail, tags=["incidents"],
              summary="Change the status (new → notified → contained → investigated → reported → closed)")
def change_status(incident_id: str, body: StatusIn, who: Who, ctx: Ctx) -> IncidentDetail:
    service.set_status(ctx, who, incident_id, body.status, body.note)
    return _detail(ctx, who, incident_id)


@router.get("/incidents/{incident_id}/notes", response_model=list[NoteOut], tags=["incidents"])
def notes(incident_id: str, who: Who, ctx: Ctx) -> list[NoteOut]:
    return [NoteOut.of(n) for n in service.notes(ctx, who, incident_id)]


@router.post("/incidents/{incident_id}/notes", response_model=NoteOut, status_code=201, tags=["incidents"])
def add_note(incident_id: str, body: NoteIn, who: Who, ctx: Ctx) -> NoteOut:
    return NoteOut.of(service.add_note(ctx, who, incident_id, body.text))


@router.get("/incidents/{incident_id}/attribution", response_model=AttributionOut, tags=["incidents"],
            summary="Documents probably taken, with level and confidence")
def attribution(incident_id: str, who: Who, ctx: Ctx) -> AttributionOut:
    row = service.incident(ctx, who, incident_id)
    result, notes_ = service.attribution(ctx, who, row.id)
    return AttributionOut.of(row.id, result, notes_)


@router.get("/incidents/{incident_id}/report", tags=["incidents"], summary="Download a report",
            response_class=Response,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}, "text/markdown": {},
                                         "application/json": {}, "text/plain": {}}}})
def report(incident_id: str, who: Who, ctx: Ctx,
           format: Literal["html", "pdf", "md", "json", "stix", "notice"] = "html",
           lang: Literal["ja", "en"] = "ja") -> Response:
    body, media_type, filename = service.report(ctx, who, incident_id, format, lang)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/incidents/{incident_id}/blocks", response_model=list[BlockOut], tags=["blocks"])
def incident_blocks(incident_id: str, who: Who, ctx: Ctx) -> list[BlockOut]:
    return [BlockOut.of(a, t) for a, t in service.blocks(ctx, who, incident_id=incident_id)]


@router.post("/incidents/{incident_id}/block", response_model=list[BlockOut], status_code=201, tags=["blocks"],
             summary="Block the incident's server (policy and allowlist apply; audited)")
def block(incident_id: str, body: BlockIn, who: Who, ctx: Ctx) -> list[BlockOut]:
    rows = service.block(ctx, who, incident_id, body.expire, body.reason)
    tenant_ = service.incident(ctx, who, incident_id).tenant
    return [BlockOut.of(a, tenant_) for a in rows]


@router.post("/incidents/{incident_id}/unblock", response_model=list[BlockOut], tags=["blocks"],
             summary="Roll back the incident's open blocks (audited)")
def unblock(incident_id: str, body: UnblockIn, who: Who, ctx: Ctx) -> list[BlockOut]:
    rows = service.unblock_incident(ctx, who, incident_id, body.reason)
    tenant_ = service.incident(ctx, who, incident_id).tenant
    return [BlockOut.of(a, tenant_) for a in rows]


# -- documents, blocks, audit ----------------------------------------------------------------------------------
@router.get("/documents", response_model=DocumentPage, tags=["documents"],
            summary="A tenant's document inventory: levels, personal data (no text)")
def documents(who: Who, ctx: Ctx, level: str | None = None,
              q: Annotated[str | None, Query(max_length=200)] = None,
              limit: Annotated[int, Query(ge=1, le=5000)] = 200,
              offset: Annotated[int, Query(ge=0)] = 0,
              tenant: Annotated[str | None, Query(max_length=100, description=(
                  "Whose inventory (default: the workspace's tenant for the centre, else the caller's own)"))] = None,
              ) -> DocumentPage:
    owner, rows, total = service.documents(ctx, who, level, q, limit, offset, tenant)
    return DocumentPage(tenant=owner, items=[DocumentOut.of(d) for d in rows], total=total, limit=limit,
                        offset=offset)


@router.get("/blocks", response_model=list[BlockOut], tags=["blocks"])
def blocks(who: Who, ctx: Ctx,
           status: Annotated[list[str] | None, Query(description="active, expired, rolled-back, …")] = None,
           ) -> list[BlockOut]:
    return [BlockOut.of(a, t) for a, t in service.blocks(ctx, who, status=status)]


@router.post("/blocks/{action_id}/unblock", response_model=BlockOut, tags=["blocks"],
             summary="Roll back one block action (audited)")
def unblock_action(action_id: str, body: UnblockIn, who: Who, ctx: Ctx) -> BlockOut:
    row = service.unblock_action(ctx, who, action_id, body.reason)
    return BlockOut.of(row, service.action_tenant(row, service.incident_tenants(ctx)))


@router.post("/blocks/{action_id}/approve", response_model=BlockOut, tags=["blocks"],
             summary="Approve a pending block and apply it (audited)")
def approve_action(action_id: str, who: Who, ctx: Ctx) -> BlockOut:
    row = service.approve_action(ctx, who, action_id)
    return BlockOut.of(row, service.action_tenant(row, service.incident_tenants(ctx)))


@router.get("/audit", response_model=AuditPage, tags=["audit"],
            summary="The hash-chained audit log: all for the centre, the tenant's own for tenant users")
def audit(who: Who, ctx: Ctx, event: str | None = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100,
          offset: Annotated[int, Query(ge=0)] = 0) -> AuditPage:
    rows, total, chain = service.audit(ctx, who, limit, offset, event)
    return AuditPage(items=[AuditOut.of(e, t) for e, t in rows], total=total, limit=limit, offset=offset,
                     chain_ok=chain)

