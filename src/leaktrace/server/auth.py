"""Authentication of a request: ``Authorization: Bearer <token>`` (no CSRF needed), or the session cookie, which
must come with the session's CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form field) on every request
that changes something."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from leaktrace.errors import AuthError, PermissionDeniedError
from leaktrace.server.crypto import same
from leaktrace.server.principal import Principal
from leaktrace.server.service import Context

SESSION_COOKIE = "leaktrace_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def get_ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(get_ctx)]


async def _csrf_sent(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded",
                                                           "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def authenticate(request: Request) -> Principal:
    """The principal of the request; raises :class:`AuthError` (401) or :class:`PermissionDeniedError` (403)."""
    ctx = get_ctx(request)
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("use Authorization: Bearer <token>")
        return ctx.accounts.from_token(token.strip())
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        raise AuthError("log in, or send Authorization: Bearer <token>")
    who, csrf = ctx.accounts.from_session(sid)
    request.state.csrf_token = csrf
    if request.method not in SAFE_METHODS and not same(await _csrf_sent(request), csrf):
        raise PermissionDeniedError(f"CSRF token missing or wrong: send the {CSRF_HEADER} header "
                                    f"(or the {CSRF_FIELD} form field) with cookie requests")
    return who


Who = Annotated[Principal, Depends(authenticate)]
