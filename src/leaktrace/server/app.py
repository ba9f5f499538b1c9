"""The application factory: ``create_app(ws)`` gives the REST API, its OpenAPI document and the web UI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from leaktrace.respond.runner import CommandRunner
from leaktrace.server import api, errors, web
from leaktrace.server.service import Context
from leaktrace.server.settings import ServerSettings
from leaktrace.workspace import Workspace

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; frame-ancestors 'none'",
}


def create_app(ws: Workspace, *, runner: CommandRunner | None = None,
               settings: ServerSettings | None = None) -> FastAPI:
    """The server over workspace ``ws``. ``runner`` runs ``nft`` (a test twin in tests; None = the real one)."""
    from leaktrace import __version__

    app = FastAPI(title="leaktrace", version=__version__,
                  description="Incidents, documents taken, blocks and reports of a leaktrace workspace, per tenant.",
                  openapi_url=f"{api.PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    app.state.ctx = Context.open(ws, runner=runner, settings=settings)
    errors.install(app)
    app.include_router(api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/") or "text/html" in response.headers.get("content-type", ""):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the application serves, for tests that must cover each one (HEAD omitted)."""
    out: list[tuple[str, str]] = []

    def walk(routes: list[Any], prefix: str = "") -> None:
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                walk(list(inner.routes), prefix)
                continue
            methods = getattr(r, "methods", None)
            path = getattr(r, "path", None)
            if methods and path:
                out.extend((m, prefix + path) for m in sorted(methods) if m != "HEAD")
            elif path is not None and hasattr(r, "routes") and not isinstance(r.app, StaticFiles):
                walk(list(r.routes), prefix + path)

    walk(list(app.routes))
    return sorted(set(out))
