"""The web UI: server-rendered pages (Jinja2) over the same :mod:`service` functions as the API.

Pages read the session cookie; every form that changes something carries the session's CSRF token. The login
form is protected by a double-submit token (a cookie and a hidden field that must match).

The Users page (``/users``, linked for the centre and tenant analysts) manages accounts with the same rules as
``/api/v1/users`` (:class:`leaktrace.server.accounts.AccountManager`); a new API token is shown once, in the
answer to the form that created it, and never put in a URL.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from leaktrace.errors import AuthError, NotFoundError, PermissionDeniedError
from leaktrace.incidents.scoring import LIFECYCLE
from leaktrace.report.fmt import human_bytes, span, ts
from leaktrace.report.i18n import level_name
from leaktrace.report.view import build_view
from leaktrace.server import service
from leaktrace.server.api import set_session_cookie
from leaktrace.server.auth import SESSION_COOKIE, Ctx, Who, get_ctx
from leaktrace.server.crypto import new_secret, same
from leaktrace.server.i18n import pick_lang, ui_translator
from leaktrace.server.principal import Principal

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "leaktrace_lang"
LOGIN_CSRF_COOKIE = "leaktrace_login_csrf"
PAGE = 50
router = APIRouter(include_in_schema=False)
_env: Environment | None = None


def env() -> Environment:
    global _env
    if _env is None:
        _env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2", "html"]),
                           trim_blocks=True, lstrip_blocks=True)
        _env.filters["bytes"] = human_bytes
        _env.filters["ts"] = ts
        _env.globals["span"] = span
        _env.globals["short_paths"] = short_paths
    return _env


def lang_of(request: Request) -> str:
    default = get_ctx(request).settings.default_lang
    return pick_lang(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE), default)


def page(request: Request, template: str, who: Principal | None, status_code: int = 200,
         **values: Any) -> HTMLResponse:
    lang = lang_of(request)
    t = ui_translator(lang)
    body = env().get_template(template).render(
        t=t, lang=lang, who=who, csrf=getattr(request.state, "csrf_token", ""), path=request.url.path,
        lang_links={code: _with(request, lang=code) for code in ("ja", "en")}, level_name=lambda lv: level_name(lang, lv), **values)
    response = HTMLResponse(body, status_code=status_code)
    if request.query_params.get("lang") in ("ja", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def short_paths(docs: list[Any]) -> list[str]:
    """Document paths without the folder they all share (the share's root), for a readable table."""
    parts = [str(getattr(d, "inventory_path", None) or d.path).replace("\\", "/").split("/") for d in docs]
    if len(parts) < 2:
        return ["/".join(p[-2:]) for p in parts]
    common = 0
    while all(len(p) > common + 1 and p[common] == parts[0][common] for p in parts):
        common += 1
    return ["/".join(p[common:]) for p in parts]


def _with(request: Request, **params: str) -> str:
    """This page's URL with some query parameters replaced (and the one-shot ``done`` dropped)."""
    query = {k: v for k, v in request.query_params.items() if k != "done"}
    query.update(params)
    return request.url.path + "?" + urlencode(query)


def error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    return page(request, "error.html.j2", None, status_code=status, status=status, code=code, message=message)


def _back(url: str, done: str | None = None) -> RedirectResponse:
    return RedirectResponse(url + (f"?done={done}" if done else ""), status_code=303)


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/incidents"


# -- login -----------------------------------------------------------------------------------------------------
@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/incidents", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None, failed: int = 0) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_secret()
    response = page(request, "login.html.j2", None, login_csrf=token, next=_safe_next(next), failed=bool(failed))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=get_ctx(request).settings.secure_cookies)
    return response


@router.post("/login")
def login(request: Request, ctx: Ctx, name: Annotated[str, Form(max_length=100)],
          password: Annotated[str, Form(max_length=1000)], csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/incidents") -> Response:
    if not same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise PermissionDeniedError("the login form expired: reload the page and try again")
    try:
        _, new = ctx.accounts.login(name, password, ctx.settings.session_hours)
    except AuthError:
        return RedirectResponse("/login?" + urlencode({"failed": 1, "next": _safe_next(next)}), status_code=303)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, new.session_id, int(ctx.settings.session_hours * 3600), ctx.settings.secure_cookies)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, who: Who, ctx: Ctx) -> Response:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        ctx.accounts.logout(sid)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- incidents -------------------------------------------------------------------------------------------------
@router.get("/incidents")
def incidents_page(request: Request, who: Who, ctx: Ctx,
                   status: str = "", severity: str = "", kind: str = "", tenant: str = "",
                   q: Annotated[str, Query(max_length=200)] = "",
                   sort: str = "score", order: str = "desc", page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
                   ) -> HTMLResponse:
    sort = sort if sort in service.SORT_KEYS else "score"
    order = "asc" if order == "asc" else "desc"
    query = service.IncidentQuery(status=[status] if status else [], severity=[severity] if severity else [],
                                  kind=[kind] if kind else [], tenant=tenant or None, q=q or None, sort=sort,
                                  order=order, limit=PAGE, offset=(page_no - 1) * PAGE)
    rows, total = service.incidents(ctx, who, query)
    pages = max(1, math.ceil(total / PAGE))
    params = {k: v for k, v in {"status": status, "severity": severity, "kind": kind, "tenant": tenant, "q": q,
                                "sort": sort, "order": order}.items() if v}
    all_kinds = sorted({k for r in ctx.store.incidents() if who.can_read(r.tenant) for k in (r.kinds or [])})
    return page(request, "incidents.html.j2", who, rows=rows, total=total, page_no=page_no, pages=pages,
                params=params, f={"status": status, "severity": severity, "kind": kind, "tenant": tenant, "q": q,
                                  "sort": sort, "order": order},
                statuses=LIFECYCLE, severities=service.SEVERITIES, kinds=all_kinds, sorts=service.SORT_KEYS,
                tenants=who.tenants(ctx.accounts.tenant_names()), urlencode=urlencode)


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: str, who: Who, ctx: Ctx, done: str = "") -> HTMLResponse:
    lang = lang_of(request)
    row = service.incident(ctx, who, incident_id)
    data = service.page_data(ctx, who, row.id)
    view = build_view(data, lang)
    notes = service.notes(ctx, who, row.id)
    open_blocks = [a for a in data.actions if a.kind == "block" and a.status in ("active", "pending-approval",
                                                                                  "suggested")]
    later = LIFECYCLE[LIFECYCLE.index(row.status):] if row.status in LIFECYCLE else LIFECYCLE
    return page(request, "incident.html.j2", who, inc=row, data=data, view=view, notes=notes,
                open_blocks=open_blocks, can_write=who.can_write(row.tenant), statuses=later, done=done,
                explanation=list(row.explanation or []))


@router.post("/incidents/{incident_id}/status")
def status_form(incident_id: str, who: Who, ctx: Ctx, status: Annotated[str, Form()],
                note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    row = service.set_status(ctx, who, incident_id, status, note)
    return _back(f"/incidents/{row.id}", "status")


@router.post("/incidents/{incident_id}/notes")
def note_form(incident_id: str, who: Who, ctx: Ctx, text: Annotated[str, Form(max_length=10_000)]) -> Response:
    note = service.add_note(ctx, who, incident_id, text)
    return _back(f"/incidents/{note.incident_id}", "note")


@router.post("/incidents/{incident_id}/block")
def block_form(incident_id: str, who: Who, ctx: Ctx, expire: Annotated[str, Form(max_length=20)] = "",
               reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    row = service.incident(ctx, who, incident_id)
    service.block(ctx, who, row.id, expire or None, reason)
    return _back(f"/incidents/{row.id}", "block")


@router.post("/incidents/{incident_id}/unblock")
def unblock_form(incident_id: str, who: Who, ctx: Ctx, reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    row = service.incident(ctx, who, incident_id)
    service.unblock_incident(ctx, who, row.id, reason)
    return _back(f"/incidents/{row.id}", "unblock")


@router.get("/incidents/{incident_id}/report")
def report_download(request: Request, incident_id: str, who: Who, ctx: Ctx, format: str = "pdf",
                    lang: str = "") -> Response:
    body, media_type, filename = service.report(ctx, who, incident_id, format, pick_lang(lang, lang_of(request)))
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# -- documents, blocks, audit ----------------------------------------------------------------------------------
@router.get("/documents")
def documents_page(request: Request, who: Who, ctx: Ctx, level: str = "",
                   q: Annotated[str, Query(max_length=200)] = "",
                   tenant: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    try:
        owner, rows, total = service.documents(ctx, who, level or None, q or None, limit=2000,
                                               tenant=tenant or None)
    except NotFoundError:  # another tenant's (or no) inventory: an empty page, as for any list
        owner, rows, total = "", [], 0
    with_levels = sorted({r.level for r in rows if r.level})
    return page(request, "documents.html.j2", who, owner=owner, rows=rows, total=total, level=level, q=q,
                levels=with_levels, tenants=who.tenants(ctx.accounts.tenant_names()))


@router.get("/blocks")
def blocks_page(request: Request, who: Who, ctx: Ctx, done: str = "") -> HTMLResponse:
    rows = service.blocks(ctx, who)
    return page(request, "blocks.html.j2", who, rows=list(reversed(rows)), done=done)


@router.post("/blocks/{action_id}/approve")
def approve_form(action_id: str, who: Who, ctx: Ctx) -> Response:
    service.approve_action(ctx, who, action_id)
    return _back("/blocks", "approve")


@router.post("/blocks/{action_id}/unblock")
def unblock_action_form(action_id: str, who: Who, ctx: Ctx,
                        reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    service.unblock_action(ctx, who, action_id, reason)
    return _back("/blocks", "unblock")


@router.get("/audit")
def audit_page(request: Request, who: Who, ctx: Ctx, page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
               ) -> HTMLResponse:
    rows, total, chain = service.audit(ctx, who, limit=PAGE, offset=(page_no - 1) * PAGE)
    return page(request, "audit.html.j2", who, rows=rows, total=total, chain=chain, page_no=page_no,
                pages=max(1, math.ceil(total / PAGE)))


# -- accounts --------------------------------------------------------------------------------------------------
def _user_url(name: str) -> str:
    return "/users/" + quote(name, safe="")


@router.get("/users")
def users_page(request: Request, who: Who, ctx: Ctx, done: str = "") -> HTMLResponse:
    rows = service.users(ctx, who)
    roles, tenants = service.account_choices(ctx, who)
    return page(request, "users.html.j2", who, rows=rows, roles=roles, tenants=tenants, done=done)


@router.post("/users")
def add_user_form(who: Who, ctx: Ctx, name: Annotated[str, Form(max_length=100)],
                  role: Annotated[str, Form(max_length=30)], tenant: Annotated[str, Form(max_length=100)] = "",
                  password: Annotated[str, Form(max_length=1000)] = "") -> Response:
    info = service.add_user(ctx, who, name, role, tenant or None, password or None)
    return _back(_user_url(info.name), "user-add")


def _user_page(request: Request, who: Principal, ctx: service.Context, name: str, done: str = "",
               new_token: str | None = None) -> HTMLResponse:
    info = service.user(ctx, who, name)
    tokens = service.user_tokens(ctx, who, info.name)
    return page(request, "user.html.j2", who, u=info, tokens=list(reversed(tokens)), done=done, new_token=new_token)


@router.get("/users/{name}")
def user_page(request: Request, name: str, who: Who, ctx: Ctx, done: str = "") -> HTMLResponse:
    return _user_page(request, who, ctx, name, done)


@router.post("/users/{name}/active")
def active_form(name: str, who: Who, ctx: Ctx, active: Annotated[bool, Form()]) -> Response:
    info = service.update_user(ctx, who, name, active=active)
    return _back(_user_url(info.name), "enable" if active else "disable")


@router.post("/users/{name}/password")
def password_form(name: str, who: Who, ctx: Ctx, password: Annotated[str, Form(max_length=1000)]) -> Response:
    info = service.update_user(ctx, who, name, password=password)
    return _back(_user_url(info.name), "password")


@router.post("/users/{name}/tokens")
def token_form(request: Request, name: str, who: Who, ctx: Ctx,
               label: Annotated[str, Form(max_length=100)] = "") -> HTMLResponse:
    """Create a token and show it in this answer only (not stored, not in a URL)."""
    token, info = service.create_user_token(ctx, who, name, label)
    return _user_page(request, who, ctx, info.user, new_token=token)


@router.post("/tokens/{token_id}/revoke")
def revoke_form(token_id: int, who: Who, ctx: Ctx) -> Response:
    info = service.revoke_token(ctx, who, token_id)
    return _back(_user_url(info.user), "token-revoke")


__all__ = ["error_page", "router"]
