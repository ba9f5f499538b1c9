"""Tenant isolation and authentication for EVERY route of the app: another tenant's object is 404 (never 403),
lists hold only the caller's tenant, and nothing but login and the OpenAPI document answers without credentials.

The table below must name every route the app serves: a new route without a case here fails
``test_every_route_has_a_case``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from leaktrace.server.app import route_table

from .conftest import Site

A, B = "ministry", "agency"  # the objects are the ministry's; the caller is the agency's analyst


@dataclass(frozen=True)
class Case:
    url: str  # concrete URL pointing at a ministry object
    expect: str  # "404" | "filtered" | "public"
    body: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    forbidden_text: tuple[str, ...] = field(default=("INC-0001", "INC-0003", "ministry", "203.0.113.77"))
    manage: bool = False  # account management: the ministry's viewer is refused (403) even a read


CASES: dict[tuple[str, str], Case] = {
    # public
    ("GET", "/"): Case("/", "public"),
    ("GET", "/login"): Case("/login", "public"),
    ("POST", "/login"): Case("/login", "public", form={"name": "x", "password": "y"}),
    ("POST", "/api/v1/session"): Case("/api/v1/session", "public", body={"name": "x", "password": "y"}),
    ("GET", "/api/v1/openapi.json"): Case("/api/v1/openapi.json", "public"),
    # the caller's own things
    ("DELETE", "/api/v1/session"): Case("/api/v1/session", "filtered"),
    ("POST", "/logout"): Case("/logout", "filtered", form={}),
    ("GET", "/api/v1/me"): Case("/api/v1/me", "filtered"),
    ("POST", "/api/v1/me/tokens"): Case("/api/v1/me/tokens", "filtered", body={"label": "x"}),
    # lists: only the caller's tenant
    ("GET", "/api/v1/tenants"): Case("/api/v1/tenants", "filtered"),
    ("GET", "/api/v1/incidents"): Case("/api/v1/incidents?limit=1000", "filtered"),
    ("GET", "/api/v1/blocks"): Case("/api/v1/blocks", "filtered"),
    ("GET", "/api/v1/audit"): Case("/api/v1/audit?limit=1000", "filtered"),
    ("GET", "/incidents"): Case("/incidents", "filtered"),
    ("GET", "/blocks"): Case("/blocks", "filtered"),
    ("GET", "/audit"): Case("/audit", "filtered"),
    ("GET", "/documents"): Case("/documents", "filtered", forbidden_text=("report-0.docx", "機密性3")),
    # the ministry's objects: 404
    ("GET", "/api/v1/tenants/{name}"): Case(f"/api/v1/tenants/{A}", "404"),
    ("GET", "/api/v1/documents"): Case("/api/v1/documents?tenant=ministry", "404"),  # its own: test_api
    ("GET", "/api/v1/incidents/{incident_id}"): Case("/api/v1/incidents/INC-0001", "404"),
    ("PATCH", "/api/v1/incidents/{incident_id}"): Case("/api/v1/incidents/INC-0001", "404",
                                                       body={"status": "notified"}),
    ("GET", "/api/v1/incidents/{incident_id}/notes"): Case("/api/v1/incidents/INC-0001/notes", "404"),
    ("POST", "/api/v1/incidents/{incident_id}/notes"): Case("/api/v1/incidents/INC-0001/notes", "404",
                                                            body={"text": "x"}),
    ("GET", "/api/v1/incidents/{incident_id}/attribution"): Case("/api/v1/incidents/INC-0001/attribution", "404"),
    ("GET", "/api/v1/incidents/{incident_id}/report"): Case("/api/v1/incidents/INC-0001/report?format=json",
                                                            "404"),
    ("GET", "/api/v1/incidents/{incident_id}/blocks"): Case("/api/v1/incidents/INC-0003/blocks", "404"),
    ("POST", "/api/v1/incidents/{incident_id}/block"): Case("/api/v1/incidents/INC-0001/block", "404", body={}),
    ("POST", "/api/v1/incidents/{incident_id}/unblock"): Case("/api/v1/incidents/INC-0003/unblock", "404",
                                                              body={}),
    ("POST", "/api/v1/blocks/{action_id}/unblock"): Case("/api/v1/blocks/ACT-0001/unblock", "404", body={}),
    ("POST", "/api/v1/blocks/{action_id}/approve"): Case("/api/v1/blocks/ACT-0001/approve", "404", body={}),
    ("POST", "/blocks/{action_id}/approve"): Case("/blocks/ACT-0001/approve", "404", form={}),
    ("POST", "/blocks/{action_id}/unblock"): Case("/blocks/ACT-0001/unblock", "404", form={}),
    ("GET", "/incidents/{incident_id}"): Case("/incidents/INC-0001", "404"),
    ("GET", "/incidents/{incident_id}/report"): Case("/incidents/INC-0001/report?format=html", "404"),
    ("POST", "/incidents/{incident_id}/status"): Case("/incidents/INC-0001/status", "404",
                                                      form={"status": "closed"}),
    ("POST", "/incidents/{incident_id}/notes"): Case("/incidents/INC-0001/notes", "404", form={"text": "x"}),
    ("POST", "/incidents/{incident_id}/block"): Case("/incidents/INC-0001/block", "404", form={}),
    ("POST", "/incidents/{incident_id}/unblock"): Case("/incidents/INC-0003/unblock", "404", form={}),
    # accounts: the ministry's users and their tokens (token 3 is min-viewer's) do not exist for the agency
    ("GET", "/api/v1/users"): Case("/api/v1/users", "filtered",
                                   forbidden_text=("ministry", "min-analyst", "min-viewer", "centre")),
    ("GET", "/users"): Case("/users", "filtered", forbidden_text=("ministry", "min-analyst", "min-viewer",
                                                                  'href="/users/centre"')),
    ("POST", "/api/v1/users"): Case("/api/v1/users", "404", manage=True,
                                    body={"name": "new-one", "role": "tenant-viewer", "tenant": "ministry"}),
    ("POST", "/users"): Case("/users", "404", manage=True,
                             form={"name": "new-one", "role": "tenant-viewer", "tenant": "ministry"}),
    ("GET", "/api/v1/users/{name}"): Case("/api/v1/users/min-viewer", "404", manage=True),
    ("PATCH", "/api/v1/users/{name}"): Case("/api/v1/users/min-viewer", "404", manage=True,
                                            body={"active": False}),
    ("GET", "/api/v1/users/{name}/tokens"): Case("/api/v1/users/min-viewer/tokens", "404", manage=True),
    ("POST", "/api/v1/users/{name}/tokens"): Case("/api/v1/users/min-viewer/tokens", "404", manage=True,
                                                  body={"label": "x"}),
    ("DELETE", "/api/v1/tokens/{token_id}"): Case("/api/v1/tokens/3", "404", manage=True),
    ("GET", "/users/{name}"): Case("/users/min-viewer", "404", manage=True),
    ("POST", "/users/{name}/active"): Case("/users/min-viewer/active", "404", manage=True, form={"active": "false"}),
    ("POST", "/users/{name}/password"): Case("/users/min-viewer/password", "404", manage=True,
                                             form={"password": "another long password"}),
    ("POST", "/users/{name}/tokens"): Case("/users/min-viewer/tokens", "404", manage=True, form={"label": "x"}),
    ("POST", "/tokens/{token_id}/revoke"): Case("/tokens/3/revoke", "404", manage=True, form={}),
}
PUBLIC = {k for k, c in CASES.items() if c.expect == "public"}


def test_every_route_has_a_case(shared_site: Site) -> None:
    routes = set(route_table(shared_site.app))
    assert routes - set(CASES) == set(), "routes without a tenant-isolation case: add them to CASES"
    assert set(CASES) - routes == set(), "cases for routes that no longer exist"


def _send(site: Site, key: tuple[str, str], case: Case, user: str | None, cookie: bool) -> Any:
    method = key[0]
    if cookie and user:
        client, csrf = site.login(user)
        headers = {"X-CSRF-Token": csrf}
        form = None if case.form is None else {**case.form, "csrf_token": csrf}
    else:
        client, headers, form = site.client(user), {}, case.form
    return client.request(method, case.url, json=case.body, data=form, headers=headers, follow_redirects=False)


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda k: f"{k[0]} {k[1]}")
def test_other_tenant_sees_nothing(shared_site: Site, key: tuple[str, str]) -> None:
    case = CASES[key]
    before = len(shared_site.ctx.actions.audit_entries())
    web = not key[1].startswith("/api/")
    r = _send(shared_site, key, case, "agy-analyst", cookie=web or key[0] == "DELETE")
    if case.expect == "404":
        assert r.status_code == 404, (r.status_code, r.text[:300])
        if not web:
            assert r.json() == {"error": {"code": "not-found", "message": r.json()["error"]["message"]}}
        assert "INC-0001" not in r.text or "no incident" in r.text
        changes = [e for e in shared_site.ctx.actions.audit_entries()[before:] if e.event not in ("login",)]
        assert changes == [], "a refused request changed something"
    elif case.expect == "filtered":
        assert r.status_code in (200, 201, 204, 303), (r.status_code, r.text[:300])
        for text in case.forbidden_text:
            assert text not in r.text, f"{text} leaked to another tenant"
    else:
        assert r.status_code in (200, 303, 401, 403), (r.status_code, r.text[:300])  # login needs its CSRF


@pytest.mark.parametrize("key", sorted(set(CASES) - PUBLIC), ids=lambda k: f"{k[0]} {k[1]}")
def test_needs_credentials(shared_site: Site, key: tuple[str, str]) -> None:
    case = CASES[key]
    r = shared_site.client().request(key[0], case.url, json=case.body, data=case.form, follow_redirects=False)
    if key[1].startswith("/api/"):
        assert r.status_code == 401, (r.status_code, r.text[:300])
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["WWW-Authenticate"] == "Bearer"
    else:
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), (r.status_code, r.text[:300])


@pytest.mark.parametrize("key", sorted(k for k, c in CASES.items() if c.expect == "404"),
                         ids=lambda k: f"{k[0]} {k[1]}")
def test_own_tenant_reaches_it(shared_site: Site, key: tuple[str, str]) -> None:
    """The same requests by the ministry's viewer are not 404 (so the 404s above are about the tenant)."""
    case = CASES[key]
    web = not key[1].startswith("/api/")
    r = _send(shared_site, key, case, "min-viewer", cookie=web)
    if key[0] == "GET" and not case.manage:
        assert r.status_code == 200, (r.status_code, r.text[:300])
    else:  # a viewer may not change anything nor manage accounts: 403, its own tenant's objects no secret to it
        assert r.status_code == 403, (r.status_code, r.text[:300])
