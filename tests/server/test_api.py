"""The REST API: roles, token and cookie auth, CSRF, one error shape, the lifecycle, notes, attribution,
documents, blocks through the nft twin, the audit log and reports; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from leaktrace.server.crypto import sha256_hex
from leaktrace.server.db import TokenRow

from .conftest import AGENCY_DOC, PASSWORD, Site


def error_of(r: object) -> dict[str, str]:
    body = r.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]  # type: ignore[no-any-return]


# -- authentication --------------------------------------------------------------------------------------------
def test_token_auth_and_me(shared_site: Site) -> None:
    r = shared_site.client("min-viewer").get("/api/v1/me")
    assert r.status_code == 200
    assert r.json() | {"csrf_token": None} == {"name": "min-viewer", "role": "tenant-viewer",
                                               "roles": {"ministry": "tenant-viewer"}, "tenants": ["ministry"],
                                               "via": "token", "csrf_token": None}
    centre = shared_site.client("centre").get("/api/v1/me").json()
    assert centre["role"] == "centre-analyst" and centre["tenants"] == ["agency", "ministry"]


@pytest.mark.parametrize("header", ["Bearer lt_nope", "Bearer ", "Basic dXNlcjpwYXNz", "lt_token"])
def test_bad_tokens_are_401(shared_site: Site, header: str) -> None:
    r = shared_site.client().get("/api/v1/me", headers={"Authorization": header})
    assert r.status_code == 401 and error_of(r)["code"] == "unauthorized"


def test_tokens_are_stored_as_sha256_only(shared_site: Site) -> None:
    token = shared_site.tokens["centre"]
    with shared_site.ctx.accounts.session() as s:
        rows = s.query(TokenRow).all()
    assert token not in {r.token_sha256 for r in rows}
    assert sha256_hex(token) in {r.token_sha256 for r in rows}


def test_login_cookie_flags_and_failure_audited(site: Site) -> None:
    c = site.client()
    r = c.post("/api/v1/session", json={"name": "min-analyst", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["csrf_token"]
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "leaktrace_session=" in cookie
    bad = site.client().post("/api/v1/session", json={"name": "min-analyst", "password": "wrong password!"})
    assert bad.status_code == 401 and error_of(bad)["message"] == "wrong user name or password"
    nobody = site.client().post("/api/v1/session", json={"name": "nobody", "password": "whatever123"})
    assert nobody.status_code == 401 and error_of(nobody) == error_of(bad)  # no hint that the user is unknown
    fails = [e for e in site.ctx.actions.audit_entries() if e.event == "login-fail"]
    assert [e.actor for e in fails] == ["min-analyst", "nobody"]
    assert all("wrong password" not in (e.reason + e.target + e.rule_text) for e in fails)


def test_cookie_requests_need_csrf_token_requests_do_not(site: Site) -> None:
    c, csrf = site.login("min-analyst")
    assert c.get("/api/v1/me").json()["csrf_token"] == csrf  # reads need none
    r = c.post("/api/v1/incidents/INC-0001/notes", json={"text": "no csrf"})
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden" and "CSRF" in error_of(r)["message"]
    r = c.patch("/api/v1/incidents/INC-0001", json={"status": "notified"}, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    assert site.ctx.store.incident("INC-0001").status == "new"
    assert c.patch("/api/v1/incidents/INC-0001", json={"status": "notified"},
                   headers={"X-CSRF-Token": csrf}).status_code == 200
    t = site.client("min-analyst")  # a token request needs no CSRF token
    assert t.patch("/api/v1/incidents/INC-0001", json={"status": "contained"}).status_code == 200


def test_logout_ends_the_session(site: Site) -> None:
    c, csrf = site.login("centre")
    assert c.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert c.get("/api/v1/me").status_code == 401


def test_create_token_for_myself(site: Site) -> None:
    r = site.client("min-viewer").post("/api/v1/me/tokens", json={"label": "script"})
    assert r.status_code == 201
    token = r.json()["token"]
    me = site.client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "min-viewer"
    assert any(e.event == "token-create" and e.actor == "min-viewer" for e in site.ctx.actions.audit_entries())


# -- roles -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("user", "status"), [("centre", 200), ("min-analyst", 200), ("min-viewer", 403)])
def test_roles_may_or_may_not_write(site: Site, user: str, status: int) -> None:
    r = site.client(user).patch("/api/v1/incidents/INC-0002", json={"status": "notified", "note": "phoned"})
    assert r.status_code == status, r.text
    if status == 403:
        assert error_of(r)["code"] == "forbidden"
        assert site.client(user).post("/api/v1/incidents/INC-0002/notes", json={"text": "x"}).status_code == 403
        assert site.client(user).post("/api/v1/incidents/INC-0002/block", json={}).status_code == 403
    else:
        assert r.json()["history"][-1] | {"at": None} == {"at": None, "old": "new", "new": "notified",
                                                          "note": "phoned", "actor": user}


def test_centre_sees_every_tenant(shared_site: Site) -> None:
    ids = [i["id"] for i in shared_site.client("centre").get("/api/v1/incidents").json()["items"]]
    assert sorted(ids) == ["INC-0001", "INC-0002", "INC-0003", "INC-0004"]
    own = [i["id"] for i in shared_site.client("agy-analyst").get("/api/v1/incidents").json()["items"]]
    assert own == ["INC-0004"]


# -- errors ----------------------------------------------------------------------------------------------------
def test_one_error_shape(shared_site: Site) -> None:
    c = shared_site.client("centre")
    cases = [
        (c.get("/api/v1/incidents/INC-9999"), 404, "not-found"),
        (c.get("/api/v1/nothing-here"), 404, "not-found"),
        (c.patch("/api/v1/incidents/INC-0001", json={"status": "sideways"}), 422, "invalid-request"),
        (c.get("/api/v1/incidents?limit=0"), 422, "invalid-request"),
        (c.post("/api/v1/incidents/INC-0001/notes", content=b"{not json", headers={"content-type":
                                                                                 "application/json"}),
         422, "invalid-request"),
        (c.put("/api/v1/me"), 405, "method-not-allowed"),
        (c.get("/api/v1/incidents/INC-0001/report?format=exe"), 422, "invalid-request"),
    ]
    for r, status, code in cases:
        assert r.status_code == status, r.text
        assert error_of(r)["code"] == code


def test_status_cannot_go_back(site: Site) -> None:
    c = site.client("centre")
    assert c.patch("/api/v1/incidents/INC-0001", json={"status": "contained"}).status_code == 200
    r = c.patch("/api/v1/incidents/INC-0001", json={"status": "notified"})
    assert r.status_code == 409 and error_of(r)["code"] == "conflict"
    statuses = [e.reason for e in site.ctx.actions.audit_entries() if e.event == "status"]
    assert statuses == ["new -> contained"]


# -- incidents -------------------------------------------------------------------------------------------------
def test_list_filters_search_sort_page(shared_site: Site) -> None:
    c = shared_site.client("centre")

    def ids(query: str) -> list[str]:
        r = c.get(f"/api/v1/incidents?{query}")
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert ids("") == ["INC-0001", "INC-0004", "INC-0003", "INC-0002"]  # score, highest first
    assert ids("sort=id&order=asc") == ["INC-0001", "INC-0002", "INC-0003", "INC-0004"]
    assert ids("sort=severity&order=asc") == ["INC-0002", "INC-0003", "INC-0004", "INC-0001"]
    assert ids("severity=critical&severity=high") == ["INC-0001", "INC-0004"]
    assert ids("kind=beaconing") == ["INC-0001", "INC-0002"]
    assert ids("tenant=agency") == ["INC-0004"]
    assert ids("q=forum-research71") == ["INC-0001"]
    assert ids("q=10.1.0 cdn") == ["INC-0003"]
    assert ids("status=closed") == []
    page = c.get("/api/v1/incidents?sort=id&order=asc&limit=2&offset=2").json()
    assert [i["id"] for i in page["items"]] == ["INC-0003", "INC-0004"] and page["total"] == 4


def test_incident_detail(shared_site: Site) -> None:
    d = shared_site.client("min-viewer").get("/api/v1/incidents/inc-0001").json()
    assert d["id"] == "INC-0001" and d["tenant"] == "ministry"
    assert d["findings"][0]["detector"] == "exfil_volume" and d["explanation"] == [{"rule": "test", "score": 0.95}]
    assert isinstance(d["history"], list)


def test_notes_and_audit_without_their_text(site: Site) -> None:
    c = site.client("min-analyst")
    r = c.post("/api/v1/incidents/INC-0002/notes", json={"text": "the user says 機密 files were opened"})
    assert r.status_code == 201 and r.json()["author"] == "min-analyst"
    notes = c.get("/api/v1/incidents/INC-0002/notes").json()
    assert [n["text"] for n in notes] == ["the user says 機密 files were opened"]
    assert c.post("/api/v1/incidents/INC-0002/notes", json={"text": "   "}).status_code == 400
    entry = [e for e in site.ctx.actions.audit_entries() if e.event == "note"][-1]
    assert entry.incident_id == "INC-0002" and "機密" not in entry.reason and entry.actor == "min-analyst"


def test_attribution_and_documents(shared_site: Site) -> None:
    c = shared_site.client("min-viewer")
    a = c.get("/api/v1/incidents/INC-0001/attribution").json()
    assert a["incident_id"] == "INC-0001" and a["available"] is True and a["documents"] == []
    docs = c.get("/api/v1/documents").json()
    assert docs["tenant"] == "ministry" and docs["total"] == 4
    assert [d["level"] for d in docs["items"]] == ["機密性3", "機密性2", "機密性2", "機密性1"]
    assert c.get("/api/v1/documents?level=機密性2").json()["total"] == 2
    assert "text" not in docs["items"][0] and "fingerprints" not in docs["items"][0]


def test_documents_are_per_tenant(shared_site: Site) -> None:
    from leaktrace.investigate.loader import inventory_refs

    def paths(user: str, query: str = "") -> tuple[int, str | None, list[str]]:
        r = shared_site.client(user).get("/api/v1/documents" + query)
        body = r.json()
        return r.status_code, body.get("tenant"), [d["path"] for d in body.get("items", [])]

    ministry = [f"/share/division/report-{i}.docx" for i in range(4)]
    assert paths("agy-analyst") == (200, "agency", [AGENCY_DOC])  # a tenant user: its own inventory
    assert paths("agy-analyst", "?tenant=agency") == (200, "agency", [AGENCY_DOC])
    assert paths("agy-analyst", "?tenant=ministry")[0] == 404
    status, owner, seen = paths("min-viewer")
    assert (status, owner, sorted(seen)) == (200, "ministry", ministry)
    assert paths("min-viewer", "?tenant=agency")[0] == 404
    status, owner, seen = paths("centre")  # the centre: the workspace's tenant, any other on request
    assert (status, owner, sorted(seen)) == (200, "ministry", ministry)
    assert paths("centre", "?tenant=agency") == (200, "agency", [AGENCY_DOC])
    assert paths("centre", "?tenant=nobody")[0] == 404
    c, _ = shared_site.login("agy-analyst")
    page = c.get("/documents").text
    assert "plan-of-the-agency" in page and "report-0" not in page
    c, _ = shared_site.login("centre")
    page = c.get("/documents?tenant=agency").text
    assert "plan-of-the-agency" in page and "report-0" not in page and 'name="tenant"' in page
    # attribution of an incident offers only its tenant's documents
    assert [d.path for d in inventory_refs(shared_site.ws, "agency")] == [AGENCY_DOC]
    assert AGENCY_DOC not in [d.path for d in inventory_refs(shared_site.ws, "ministry")]


# -- blocks ----------------------------------------------------------------------------------------------------
def test_block_and_unblock_through_the_twin(site: Site) -> None:
    c = site.client("min-analyst")
    r = c.post("/api/v1/incidents/INC-0001/block", json={"expire": "12h", "reason": "exfiltration"})
    assert r.status_code == 201, r.text
    ip, dom = r.json()
    assert (ip["target"], ip["status"], ip["backends"], ip["tenant"]) == ("203.0.113.9", "active",
                                                                          ["nftables", "csv"], "ministry")
    assert dom["target"] == "forum-research71.info" and dom["backends"] == ["csv"]
    assert "203.0.113.9" in site.nft.elements()
    listed = {b["target"] for b in c.get("/api/v1/blocks?status=active").json()}
    assert {"203.0.113.9", "forum-research71.info"} <= listed
    assert {b["target"] for b in c.get("/api/v1/incidents/INC-0001/blocks").json()} == listed - {
        "203.0.113.77", "cdn-files.example"}
    r = c.post("/api/v1/incidents/INC-0001/unblock", json={"reason": "false positive"})
    assert r.status_code == 200 and {b["status"] for b in r.json()} == {"rolled-back"}
    assert "203.0.113.9" not in site.nft.elements()
    events = [(e.event, e.actor) for e in site.ctx.actions.audit_entries() if e.incident_id == "INC-0001"]
    assert ("block", "min-analyst") in events and ("unblock", "min-analyst") in events
    again = c.post("/api/v1/incidents/INC-0001/unblock", json={})
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"


def test_block_refused_by_allowlist(site: Site) -> None:
    r = site.client("centre").post("/api/v1/incidents/INC-0002/block", json={})  # 198.51.100.0/24 allowlisted
    assert r.status_code == 409 and error_of(r)["code"] == "block-refused" and "refused" in error_of(r)["message"]
    assert site.nft.elements() == {} or "198.51.100.20" not in site.nft.elements()
    assert any(e.event == "refuse" and e.incident_id == "INC-0002" for e in site.ctx.actions.audit_entries())


def test_unblock_one_action(site: Site) -> None:
    c = site.client("centre")
    r = c.post("/api/v1/blocks/ACT-0001/unblock", json={"reason": "done"})
    assert r.status_code == 200 and r.json()["status"] == "rolled-back" and r.json()["id"] == "ACT-0001"
    assert c.post("/api/v1/blocks/ACT-0099/unblock", json={}).status_code == 404


# -- audit -----------------------------------------------------------------------------------------------------
def test_audit_scoped_by_tenant(shared_site: Site) -> None:
    centre = shared_site.client("centre").get("/api/v1/audit?limit=1000").json()
    assert centre["chain_ok"] is True
    tenants = {e["tenant"] for e in centre["items"]}
    assert {"ministry", "agency", None} <= tenants
    agency = shared_site.client("agy-analyst").get("/api/v1/audit?limit=1000").json()
    assert agency["chain_ok"] is None and {e["tenant"] for e in agency["items"]} == {"agency"}
    ids = [e["id"] for e in centre["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first


# -- reports ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "media", "magic"), [
    ("pdf", "application/pdf", b"%PDF"), ("html", "text/html", b"<!doctype html"), ("json", "application/json", b"{"),
    ("md", "text/markdown", b"#"), ("stix", "application/stix+json", b"{"), ("notice", "text/plain", b""),
])
def test_reports(shared_site: Site, fmt: str, media: str, magic: bytes) -> None:
    r = shared_site.client("min-viewer").get(f"/api/v1/incidents/INC-0001/report?format={fmt}&lang=en")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith(media)
    assert r.content.lower().startswith(magic.lower())
    assert "attachment" in r.headers["content-disposition"] and "INC-0001-en" in r.headers["content-disposition"]
    if fmt == "json":
        assert json.loads(r.content)["incident"]["id"] == "INC-0001"


def test_openapi_document(shared_site: Site) -> None:
    doc = shared_site.client().get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    assert "/api/v1/incidents/{incident_id}/attribution" in paths and "/incidents" not in paths
    assert "ErrorOut" in doc["components"]["schemas"]
    assert paths["/api/v1/incidents/{incident_id}"]["patch"]["responses"]["404"]["content"]["application/json"]


def test_approve_mode_needs_a_second_person(site: Site) -> None:
    ctx = site.ctx
    r = ctx.responder("ministry")
    r.settings = r.settings.model_copy(update={"mode": "approve", "approver_must_differ": True})
    out = site.client("min-analyst").post("/api/v1/incidents/INC-0001/block", json={"expire": "1d"})
    assert out.status_code == 201 and {b["status"] for b in out.json()} == {"pending-approval"}
    assert "203.0.113.9" not in site.nft.elements()
    ip = out.json()[0]["id"]
    same = site.client("min-analyst").post(f"/api/v1/blocks/{ip}/approve")
    assert same.status_code == 409 and "another person" in error_of(same)["message"]
    assert site.client("min-viewer").post(f"/api/v1/blocks/{ip}/approve").status_code == 403
    ok = site.client("centre").post(f"/api/v1/blocks/{ip}/approve")
    assert ok.status_code == 200 and ok.json()["status"] == "active" and ok.json()["approved_by"] == "centre"
    assert "203.0.113.9" in site.nft.elements()
