"""``leaktrace serve``: the REST API (FastAPI, OpenAPI) and the web UI, with users, roles and tenants.

``create_app(ws, runner=...)`` builds the application; :mod:`accounts` holds users, tokens and sessions;
:mod:`service` does the work behind every route, with the tenant checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leaktrace.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from leaktrace.server.app import create_app

        return create_app
    raise AttributeError(f"module 'leaktrace.server' has no attribute '{name}'")
