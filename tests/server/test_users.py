"""Account management through the API and the web UI: who may list, create, disable, set passwords of and issue
or revoke tokens for whom (centre, tenant analyst, tenant viewer, another tenant), the self-disable and
last-centre-analyst guards, tokens shown once, every change audited with the acting user, passwords never
echoed or logged; on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re

import pytest

from leaktrace.errors import ConflictError
from leaktrace.server.principal import Principal

from .conftest import PASSWORD, Site
from .test_api import error_of
from .test_web import _login

NEW_PASSWORD = "a brand new passphrase 7"


def names(site: Site, user: str) -> list[str]:
    r = site.client(user).get("/api/v1/users")
    assert r.status_code == 200, r.text
    return [u["name"] for u in r.json()]


def audit(site: Site, event: str) -> list[tuple[str, str, str]]:
    return [(e.actor, e.target, e.reason) for e in site.ctx.actions.audit_entries() if e.event == event]


# -- listing ---------------------------------------------------------------------------------------------------
def test_list_users_per_role(shared_site: Site) -> None:
    assert names(shared_site, "centre") == ["agy-analyst", "centre", "min-analyst", "min-viewer"]
    assert names(shared_site, "min-analyst") == ["min-analyst", "min-viewer"]
    assert names(shared_site, "agy-analyst") == ["agy-analyst"]
    r = shared_site.client("min-viewer").get("/api/v1/users")
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    (viewer,) = [u for u in shared_site.client("centre").get("/api/v1/users").json() if u["name"] == "min-viewer"]
    assert viewer | {"created": None} == {"name": "min-viewer", "role": "tenant-viewer",
                                          "roles": {"ministry": "tenant-viewer"}, "active": True,
                                          "has_password": True, "tokens": 1, "created": None}
    centre = shared_site.client("centre").get("/api/v1/users/centre").json()
    assert centre["roles"] == {"": "centre-analyst"} and centre["created"].startswith("20")


@pytest.mark.parametrize(("user", "target", "status"), [
    ("centre", "min-viewer", 200), ("centre", "agy-analyst", 200), ("min-analyst", "min-viewer", 200),
    ("min-analyst", "min-analyst", 200), ("min-analyst", "centre", 404), ("min-analyst", "agy-analyst", 404),
    ("agy-analyst", "min-viewer", 404), ("min-viewer", "min-viewer", 403), ("min-viewer", "min-analyst", 403),
    ("centre", "nobody", 404),
])
def test_one_user_and_its_tokens_per_role(shared_site: Site, user: str, target: str, status: int) -> None:
    c = shared_site.client(user)
    for url in (f"/api/v1/users/{target}", f"/api/v1/users/{target}/tokens"):
        r = c.get(url)
        assert r.status_code == status, (url, r.text)
    if status == 404:  # another tenant's user reads exactly like a missing one
        assert error_of(r)["message"] == "no user '" + target + "'"
    if status == 200:
        (token,) = r.json()
        assert token["user"] == target and token["label"] == "tests" and token["revoked"] is False
        assert shared_site.tokens[target] not in r.text and "token_sha256" not in r.text
        assert token["prefix"] == shared_site.tokens[target][:10]


# -- creating --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("user", "body", "status", "roles"), [
    ("centre", {"role": "tenant-viewer", "tenant": "agency"}, 201, {"agency": "tenant-viewer"}),
    ("centre", {"role": "centre-analyst"}, 201, {"": "centre-analyst"}),
    ("centre", {"role": "tenant-analyst"}, 400, None),  # a tenant role needs its tenant
    ("min-analyst", {"role": "tenant-viewer"}, 201, {"ministry": "tenant-viewer"}),  # its own tenant by default
    ("min-analyst", {"role": "tenant-analyst", "tenant": "ministry"}, 201, {"ministry": "tenant-analyst"}),
    ("min-analyst", {"role": "centre-analyst"}, 403, None),
    ("min-analyst", {"role": "tenant-viewer", "tenant": "agency"}, 404, None),
    ("min-analyst", {"role": "tenant-viewer", "tenant": "nowhere"}, 404, None),
    ("agy-analyst", {"role": "tenant-analyst", "tenant": "ministry"}, 404, None),
    ("min-viewer", {"role": "tenant-viewer", "tenant": "ministry"}, 403, None),
    ("min-viewer", {"role": "tenant-viewer"}, 403, None),
])
def test_create_user_per_role(site: Site, user: str, body: dict[str, str], status: int,
                              roles: dict[str, str] | None) -> None:
    r = site.client(user).post("/api/v1/users", json={"name": "suzuki", **body})
    assert r.status_code == status, r.text
    created = [a for a in audit(site, "user-add") if "suzuki" in a[1]]
    if roles is None:
        assert created == [] and "suzuki" not in names(site, "centre")
        if status == 404:  # as for a tenant that does not exist: no list of the tenants that do
            assert error_of(r)["message"] == f"no tenant '{body['tenant']}'"
        return
    out = r.json()
    assert out["name"] == "suzuki" and out["roles"] == roles and out["has_password"] is False
    assert out["active"] is True and out["tokens"] == 0
    tenant = next(iter(roles))
    target = f"tenant:{tenant}/user:suzuki" if tenant else "user:suzuki"
    assert [(a, t) for a, t, _ in created] == [(user, target)]
    assert "suzuki" in names(site, user)


def test_create_user_refusals(site: Site) -> None:
    c = site.client("centre")
    cases = [
        ({"name": "min-viewer", "role": "tenant-viewer", "tenant": "ministry"}, 409, "conflict"),
        ({"name": "bad name", "role": "tenant-viewer", "tenant": "ministry"}, 400, "bad-request"),
        ({"name": "x", "role": "admin"}, 422, "invalid-request"),
        ({"name": "x", "role": "centre-analyst", "tenant": "ministry"}, 400, "bad-request"),
        ({"name": "x", "role": "tenant-viewer", "tenant": "ministry", "password": "short"}, 400, "bad-request"),
    ]
    for body, status, code in cases:
        r = c.post("/api/v1/users", json=body)
        assert r.status_code == status and error_of(r)["code"] == code, (body, r.text)
    assert names(site, "centre") == ["agy-analyst", "centre", "min-analyst", "min-viewer"]
    # an agency analyst creating a name the ministry uses: taken (names are unique), nothing else said
    r = site.client("agy-analyst").post("/api/v1/users", json={"name": "min-viewer", "role": "tenant-viewer"})
    assert r.status_code == 409 and "ministry" not in r.text


def test_created_user_can_log_in_and_password_is_never_echoed(site: Site, caplog: pytest.LogCaptureFixture
                                                               ) -> None:
    caplog.set_level(logging.DEBUG)
    r = site.client("min-analyst").post("/api/v1/users", json={"name": "kato", "role": "tenant-analyst",
                                                               "password": NEW_PASSWORD})
    assert r.status_code == 201 and r.json()["has_password"] is True
    assert NEW_PASSWORD not in r.text
    login = site.client().post("/api/v1/session", json={"name": "kato", "password": NEW_PASSWORD})
    assert login.status_code == 200 and login.json()["tenants"] == ["ministry"]
    # refused passwords are not repeated either: too short (the rule) and far too long (the schema)
    for password, status in (("tiny pw", 400), ("x" * 1001, 422)):
        bad = site.client("centre").patch("/api/v1/users/kato", json={"password": password})
        assert bad.status_code == status and password not in bad.text, bad.text
    assert NEW_PASSWORD not in caplog.text and "tiny pw" not in caplog.text
    assert all(NEW_PASSWORD not in (e.reason + e.target + e.rule_text) for e in site.ctx.actions.audit_entries())


# -- enabling, disabling, passwords ----------------------------------------------------------------------------
def test_disable_and_enable(site: Site) -> None:
    viewer_token = site.client("min-viewer")
    session, _ = site.login("min-viewer")
    assert viewer_token.get("/api/v1/me").status_code == 200
    r = site.client("min-analyst").patch("/api/v1/users/min-viewer", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert viewer_token.get("/api/v1/me").status_code == 401  # its token stops working
    assert session.get("/api/v1/me").status_code == 401  # its session ended
    assert site.client().post("/api/v1/session", json={"name": "min-viewer",
                                                       "password": PASSWORD}).status_code == 401
    # enabling an enabled user, or disabling a disabled one, changes nothing and is not audited again
    assert site.client("centre").patch("/api/v1/users/min-viewer", json={"active": False}).status_code == 200
    r = site.client("centre").patch("/api/v1/users/min-viewer", json={"active": True})
    assert r.status_code == 200 and r.json()["active"] is True
    assert viewer_token.get("/api/v1/me").status_code == 200
    assert audit(site, "user-disable") == [("min-analyst", "tenant:ministry/user:min-viewer", "")]
    assert audit(site, "user-enable") == [("centre", "tenant:ministry/user:min-viewer", "")]
    # the ministry's analyst sees these entries in its audit log; the agency's does not
    ministry = site.client("min-analyst").get("/api/v1/audit?event=user-disable").json()["items"]
    assert [e["actor"] for e in ministry] == ["min-analyst"]
    assert site.client("agy-analyst").get("/api/v1/audit?event=user-disable").json()["items"] == []


@pytest.mark.parametrize(("user", "target", "status"), [
    ("agy-analyst", "min-viewer", 404), ("min-analyst", "centre", 404), ("min-analyst", "agy-analyst", 404),
    ("min-viewer", "min-viewer", 403), ("min-viewer", "min-analyst", 403), ("centre", "nobody", 404),
])
def test_patch_refused(site: Site, user: str, target: str, status: int) -> None:
    before = len(site.ctx.actions.audit_entries())
    for body in ({"active": False}, {"password": NEW_PASSWORD}):
        r = site.client(user).patch(f"/api/v1/users/{target}", json=body)
        assert r.status_code == status, r.text
    assert site.ctx.actions.audit_entries()[before:] == []
    if target != "nobody":
        assert site.ctx.accounts.user(target).active
        assert site.client().post("/api/v1/session", json={"name": target, "password": PASSWORD}).status_code == 200


def test_nothing_to_change(site: Site) -> None:
    r = site.client("centre").patch("/api/v1/users/min-viewer", json={})
    assert r.status_code == 400 and "nothing to change" in error_of(r)["message"]


@pytest.mark.parametrize("user", ["centre", "min-analyst"])
def test_nobody_disables_themselves(site: Site, user: str) -> None:
    r = site.client(user).patch(f"/api/v1/users/{user}", json={"active": False})
    assert r.status_code == 409 and error_of(r)["code"] == "conflict"
    assert "your own account" in error_of(r)["message"]
    # nothing else in the same request happens either
    r = site.client(user).patch(f"/api/v1/users/{user}", json={"active": False, "password": NEW_PASSWORD})
    assert r.status_code == 409
    assert site.ctx.accounts.user(user).active and audit(site, "password-set") == []
    assert site.client(user).get("/api/v1/me").status_code == 200


def test_last_active_centre_analyst_stays(site: Site) -> None:
    accounts = site.ctx.accounts
    accounts.add_user("centre2", "centre-analyst", password=PASSWORD, actor="test")
    c2 = accounts.create_token("centre2", actor="test")
    # with two, one may disable the other
    r = site.client("centre").patch("/api/v1/users/centre2", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    # now "centre" is the last active one: refused however it is asked (the CLI's library call, or a manager
    # acting for a principal that is no longer an active user)
    with pytest.raises(ConflictError, match="last active centre-analyst"):
        accounts.set_active("centre", False, actor="cli-operator")
    ghost = Principal(0, "ghost", {"": "centre-analyst"})
    with pytest.raises(ConflictError, match="last active centre-analyst"):
        accounts.managed_by(ghost).update("centre", active=False)
    assert accounts.user("centre").active
    assert site.client("centre").patch("/api/v1/users/centre2", json={"active": True}).status_code == 200
    r = site.client().patch("/api/v1/users/centre", json={"active": False},
                            headers={"Authorization": f"Bearer {c2}"})
    assert r.status_code == 200 and not accounts.user("centre").active
    assert [a for a, _, _ in audit(site, "user-disable")] == ["centre", "centre2"]


def test_set_password(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    viewer_session, _ = site.login("min-viewer")
    r = site.client("min-analyst").patch("/api/v1/users/min-viewer", json={"password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["has_password"] is True
    assert NEW_PASSWORD not in r.text and "password" not in r.json()
    assert viewer_session.get("/api/v1/me").status_code == 401  # set by someone else: its sessions end
    assert site.client("min-viewer").get("/api/v1/me").status_code == 200  # its tokens stay
    assert site.client().post("/api/v1/session", json={"name": "min-viewer", "password": PASSWORD}).status_code == 401
    assert site.client().post("/api/v1/session", json={"name": "min-viewer",
                                                       "password": NEW_PASSWORD}).status_code == 200
    # one's own password, from one's own session: the session goes on
    own, csrf = site.login("min-analyst")
    r = own.patch("/api/v1/users/min-analyst", json={"password": NEW_PASSWORD}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and own.get("/api/v1/me").status_code == 200
    assert [(a, t) for a, t, _ in audit(site, "password-set")] == [
        ("min-analyst", "tenant:ministry/user:min-viewer"), ("min-analyst", "tenant:ministry/user:min-analyst")]
    assert NEW_PASSWORD not in caplog.text
    assert all(NEW_PASSWORD not in (e.reason + e.target + e.rule_text) for e in site.ctx.actions.audit_entries())


def test_cookie_requests_need_the_csrf_token(site: Site) -> None:
    c, csrf = site.login("min-analyst")
    body = {"name": "ito", "role": "tenant-viewer"}
    for r in (c.post("/api/v1/users", json=body), c.patch("/api/v1/users/min-viewer", json={"active": False}),
              c.post("/api/v1/users/min-viewer/tokens", json={}), c.delete("/api/v1/tokens/3"),
              c.post("/api/v1/users", json=body, headers={"X-CSRF-Token": "forged"})):
        assert r.status_code == 403 and "CSRF" in error_of(r)["message"], r.text
    assert "ito" not in names(site, "centre") and site.ctx.accounts.user("min-viewer").active
    assert len(site.ctx.accounts.tokens("min-viewer")) == 1 and not site.ctx.accounts.tokens("min-viewer")[0].revoked
    assert c.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201


# -- tokens ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["centre", "min-analyst"])
def test_token_shown_once_works_then_revoked(site: Site, user: str) -> None:
    c = site.client(user)
    r = c.post("/api/v1/users/min-viewer/tokens", json={"label": "siem"})
    assert r.status_code == 201, r.text
    new = r.json()
    token = new["token"]
    assert token.startswith("lt_") and new["user"] == "min-viewer" and new["prefix"] == token[:10]
    listed = c.get("/api/v1/users/min-viewer/tokens")
    assert token not in listed.text  # only ever shown in the answer that created it
    assert [(t["id"], t["label"], t["revoked"]) for t in listed.json()][-1] == (new["id"], "siem", False)
    me = site.client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["name"] == "min-viewer"
    r = c.delete(f"/api/v1/tokens/{new['id']}")
    assert r.status_code == 200 and r.json()["revoked"] is True and token not in r.text
    assert site.client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert site.client("min-viewer").get("/api/v1/me").status_code == 200  # its other token still works
    assert c.delete(f"/api/v1/tokens/{new['id']}").status_code == 200  # again: nothing changes
    assert [(a, t) for a, t, _ in audit(site, "token-create")][-1] == (user, "tenant:ministry/user:min-viewer")
    assert [(a, t, why) for a, t, why in audit(site, "token-revoke")] == [
        (user, "tenant:ministry/user:min-viewer", f"API token {new['id']}")]
    assert all(token not in (e.reason + e.target) for e in site.ctx.actions.audit_entries())


@pytest.mark.parametrize(("user", "owner", "status"), [
    ("agy-analyst", "min-viewer", 404), ("min-analyst", "centre", 404), ("min-analyst", "agy-analyst", 404),
    ("min-viewer", "min-viewer", 403), ("min-viewer", "min-analyst", 403), ("agy-analyst", "agy-analyst", 200),
])
def test_token_routes_refused(site: Site, user: str, owner: str, status: int) -> None:
    c = site.client(user)
    (info,) = site.ctx.accounts.tokens(owner)
    assert c.get(f"/api/v1/users/{owner}/tokens").status_code == status
    created = c.post(f"/api/v1/users/{owner}/tokens", json={"label": "x"})
    assert created.status_code == (201 if status == 200 else status)
    r = c.delete(f"/api/v1/tokens/{info.id}")
    assert r.status_code == status, r.text
    if status == 404:
        assert error_of(r)["message"] == f"no API token {info.id}"  # as for one that does not exist
        assert error_of(c.delete("/api/v1/tokens/999"))["message"] == "no API token 999"
    if status != 200:
        assert len(site.ctx.accounts.tokens(owner)) == 1 and not site.ctx.accounts.tokens(owner)[0].revoked
        assert site.client(owner).get("/api/v1/me").status_code == 200
        assert audit(site, "token-revoke") == [] and [a for a, _, _ in audit(site, "token-create")] == ["test"] * 4


# -- the web UI ------------------------------------------------------------------------------------------------
def test_users_link_only_for_those_who_manage(site: Site) -> None:
    for user, shown in (("centre", True), ("min-analyst", True), ("min-viewer", False), ("agy-analyst", True)):
        c, _ = site.login(user)
        assert ('id="nav-users"' in c.get("/incidents").text) is shown, user
        assert c.get("/users").status_code == (200 if shown else 403), user
    c, _ = site.login("min-analyst")
    page = c.get("/users?lang=en").text
    assert re.findall(r'<a href="/users/([^"]+)">', page) == ["min-analyst", "min-viewer"]
    assert 'value="centre-analyst"' not in page and 'value="tenant-viewer"' in page
    assert re.findall(r'<select name="tenant">(.*?)</select>', page, re.S)[0].count("<option") == 1
    assert "Add a user" in page
    centre, _ = site.login("centre")
    page = centre.get("/users").text
    assert "ユーザー管理" in page and 'value="centre-analyst"' in page and 'href="/users/agy-analyst"' in page


def test_users_page_forms(site: Site) -> None:
    c, csrf = _login(site, "min-analyst")
    form = {"name": "yamada", "role": "tenant-viewer", "tenant": "ministry", "password": NEW_PASSWORD}
    r = c.post("/users", data=form, follow_redirects=False)
    assert r.status_code == 403 and "yamada" not in names(site, "centre")  # no CSRF token: refused
    r = c.post("/users", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/users/yamada?done=user-add"
    page = c.get(r.headers["location"]).text
    assert "ユーザーを追加しました" in page and NEW_PASSWORD not in page and 'id="disable-button"' in page
    assert [(a, t) for a, t, _ in audit(site, "user-add")][-1] == ("min-analyst", "tenant:ministry/user:yamada")

    # disable, enable
    r = c.post("/users/yamada/active", data={"active": "false", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/users/yamada?done=disable"
    assert not site.ctx.accounts.user("yamada").active and 'id="enable-button"' in c.get("/users/yamada").text
    r = c.post("/users/yamada/active", data={"active": "true", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and site.ctx.accounts.user("yamada").active

    # a password
    r = c.post("/users/yamada/password", data={"password": "yet another passphrase", "csrf_token": csrf},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/users/yamada?done=password"
    assert "yet another passphrase" not in c.get(r.headers["location"]).text
    assert site.client().post("/api/v1/session", json={"name": "yamada",
                                                       "password": "yet another passphrase"}).status_code == 200
    r = c.post("/users/yamada/password", data={"password": "short", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 400 and "at least 10 characters" in r.text and 'value="short"' not in r.text

    # a token: shown in the answer to the form, once
    r = c.post("/users/yamada/tokens", data={"label": "script", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 200
    token = re.search(r'id="new-token-value">(lt_[^<]+)<', r.text)
    assert token, r.text[:2000]
    again = c.get("/users/yamada").text
    assert token.group(1) not in again and token.group(1)[:10] in again and "script" in again
    assert site.client().get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"}).json()[
        "name"] == "yamada"
    (info,) = site.ctx.accounts.tokens("yamada")
    assert f'action="/tokens/{info.id}/revoke"' in again
    r = c.post(f"/tokens/{info.id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/users/yamada?done=token-revoke"
    assert site.client().get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"}).status_code == 401
    assert "失効済み" in c.get(r.headers["location"]).text

    # oneself: no disable button, and the form refused if sent anyway
    own = c.get("/users/min-analyst").text
    assert 'id="disable-button"' not in own and "無効にできません" in own
    r = c.post("/users/min-analyst/active", data={"active": "false", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 409 and site.ctx.accounts.user("min-analyst").active
    events = [(e.event, e.actor) for e in site.ctx.actions.audit_entries() if "yamada" in e.target]
    assert events == [("user-add", "min-analyst"), ("user-disable", "min-analyst"), ("user-enable", "min-analyst"),
                      ("password-set", "min-analyst"), ("login", "yamada"), ("token-create", "min-analyst"),
                      ("token-revoke", "min-analyst")]


def test_users_page_for_another_tenant_and_viewer(site: Site) -> None:
    c, csrf = _login(site, "agy-analyst")
    for url in ("/users/min-viewer", "/users/centre"):
        r = c.get(url)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = c.post("/users/min-viewer/active", data={"active": "false", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 404 and site.ctx.accounts.user("min-viewer").active
    v, vcsrf = _login(site, "min-viewer")
    r = v.post("/users", data={"name": "z", "role": "tenant-viewer", "csrf_token": vcsrf}, follow_redirects=False)
    assert r.status_code == 403 and "z" not in names(site, "centre")


def test_openapi_documents_the_account_routes(shared_site: Site) -> None:
    doc = shared_site.client().get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    assert set(paths["/api/v1/users"]) == {"get", "post"} and set(paths["/api/v1/users/{name}"]) == {"get", "patch"}
    assert set(paths["/api/v1/users/{name}/tokens"]) == {"get", "post"} and "delete" in paths["/api/v1/tokens/{token_id}"]
    assert {"403", "404", "409"} <= set(paths["/api/v1/users/{name}"]["patch"]["responses"])
    password = doc["components"]["schemas"]["UserPatchIn"]["properties"]["password"]["anyOf"][0]
    assert password["format"] == "password" and password["writeOnly"] is True
    assert "password" not in doc["components"]["schemas"]["UserOut"]["properties"]
