"""One error shape for every error: ``{"error": {"code": ..., "message": ...}}``; leaktrace's own errors mapped to
HTTP statuses in one place. The web UI shows the same errors as a page (and sends a logged-out browser to login).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from leaktrace.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    LeaktraceError,
    NotFoundError,
    PermissionDeniedError,
)
from leaktrace.respond.errors import BlockError

log = logging.getLogger("leaktrace.server")

# Most specific first: the first class the error is an instance of decides.
STATUS: list[tuple[type[LeaktraceError], int, str]] = [
    (NotFoundError, 404, "not-found"),
    (AuthError, 401, "unauthorized"),
    (PermissionDeniedError, 403, "forbidden"),
    (ConflictError, 409, "conflict"),
    (BlockError, 409, "block-refused"),
    (ConfigError, 500, "config-error"),
    (LeaktraceError, 400, "bad-request"),
]
HTTP_CODES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
              405: "method-not-allowed", 409: "conflict", 413: "too-large", 415: "unsupported-media-type",
              422: "invalid-request"}


def status_of(exc: LeaktraceError) -> tuple[int, str]:
    for cls, status, code in STATUS:
        if isinstance(exc, cls):
            return status, code
    return 400, "bad-request"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _respond(request: Request, status: int, code: str, message: str) -> Response:
    if not _is_api(request):
        if status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        from leaktrace.server.web import error_page

        return error_page(request, status, code, message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers: leaktrace errors, HTTP errors, invalid requests, and (outermost) anything else."""

    @app.exception_handler(LeaktraceError)
    async def _leaktrace(request: Request, exc: LeaktraceError) -> Response:
        status, code = status_of(exc)
        if status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return _respond(request, status, code, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _respond(request, exc.status_code, HTTP_CODES.get(exc.status_code, f"http-{exc.status_code}"),
                        str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors()[:3]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            msg = str(err.get("msg", "invalid"))
            parts.append(f"{where}: {msg}" if where else msg)
        return _respond(request, 422, "invalid-request", "; ".join(parts) or "invalid request")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:  # the outermost layer: catch broadly
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _respond(request, 500, "internal", "internal error (logged on the server)")
