"""The web UI through the test client: login with its CSRF, the pages, forms that need the session's CSRF
token, the language switch."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from .conftest import PASSWORD, Site


def _login(site: Site, user: str) -> tuple[TestClient, str]:
    c = site.client()
    form = c.get("/login?next=/incidents/INC-0001")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    r = c.post("/login", data={"name": user, "password": PASSWORD, "csrf_token": token.group(1),
                               "next": "/incidents/INC-0001"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/incidents/INC-0001", r.text
    page = c.get("/incidents")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    return c, csrf.group(1)


def test_login_page_and_failure(site: Site) -> None:
    c = site.client()
    form = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    r = c.post("/login", data={"name": "centre", "password": "nope nope nope", "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303 and "failed=1" in r.headers["location"]
    assert "ユーザー名またはパスワードが違います" in c.get(r.headers["location"]).text
    r = site.client().post("/login", data={"name": "centre", "password": PASSWORD, "csrf_token": "x"},
                           follow_redirects=False)
    assert r.status_code == 403  # login CSRF: the cookie and the field must match
    r = c.post("/login", data={"name": "centre", "password": PASSWORD, "csrf_token": token,
                               "next": "https://evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/incidents"  # no open redirect


def test_pages_render(site: Site) -> None:
    c, _ = _login(site, "centre")
    for url, text in [("/incidents", "INC-0004"), ("/incidents?severity=critical&sort=id&order=asc", "INC-0001"),
                      ("/incidents/INC-0001", "forum-research71.info"), ("/documents", "機密性3"),
                      ("/blocks", "ACT-0001"), ("/audit", "user-add"), ("/incidents?lang=en", "Incidents")]:
        r = c.get(url)
        assert r.status_code == 200 and text in r.text, url
        assert "http://" not in r.text.replace("http://www.w3.org", "")  # self-contained: nothing fetched
    incident = c.get("/incidents/INC-0001?lang=ja").text
    assert "<svg" in incident and 'id="documents-taken"' in incident and 'id="download-pdf"' in incident
    assert '<html lang="en">' in c.get("/incidents?lang=en").text
    assert '<html lang="en">' in c.get("/incidents").text  # the choice is remembered in a cookie
    assert c.get("/static/app.css").status_code == 200


def test_forms_need_csrf_and_change_things(site: Site) -> None:
    c, csrf = _login(site, "min-analyst")
    r = c.post("/incidents/INC-0001/notes", data={"text": "no token"}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post("/incidents/INC-0001/status", data={"status": "notified", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/incidents/INC-0001?done=status"
    r = c.post("/incidents/INC-0001/notes", data={"text": "called the CSIRT", "csrf_token": csrf},
               follow_redirects=False)
    assert r.status_code == 303
    r = c.post("/incidents/INC-0001/block", data={"expire": "1d", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and "203.0.113.9" in site.nft.elements()
    page = c.get("/incidents/INC-0001?done=block").text
    assert "called the CSIRT" in page and "unblock-button" in page
    r = c.post("/incidents/INC-0001/unblock", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and "203.0.113.9" not in site.nft.elements()
    assert site.ctx.store.incident("INC-0001").status == "notified"
    r = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and c.get("/incidents", follow_redirects=False).status_code == 303


def test_viewer_sees_no_forms(site: Site) -> None:
    c, _ = _login(site, "min-viewer")
    page = c.get("/incidents/INC-0001").text
    assert "block-button" not in page and "閲覧のみ" in page


def test_error_page_is_html(site: Site) -> None:
    c, _ = _login(site, "agy-analyst")
    r = c.get("/incidents/INC-0001")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "not-found" in r.text


def test_ui_labels_exist_in_both_languages() -> None:
    from leaktrace.server.i18n import missing_keys, ui

    assert missing_keys() == {"ja": [], "en": []}
    assert ui("ja", "status.contained") == "封じ込め済み"  # falls back to the report catalogue


def test_sortable_headers(site: Site) -> None:
    c, _ = _login(site, "centre")
    page = c.get("/incidents?sort=id&order=asc").text
    assert "sort=id&amp;order=desc" in page and "▲" in page  # clicking the sorted column reverses it
    rows = re.findall(r'<a href="/incidents/(INC-\d+)">', page)
    assert rows == ["INC-0001", "INC-0002", "INC-0003", "INC-0004"]


def test_incident_page_data_is_reused_until_the_incident_changes(site: Site) -> None:
    from leaktrace.server import service

    ctx, who = site.ctx, site.ctx.accounts.principal("centre")
    first = service.page_data(ctx, who, "INC-0001")
    assert service.page_data(ctx, who, "INC-0001") is first
    service.set_status(ctx, who, "INC-0001", "notified")
    second = service.page_data(ctx, who, "INC-0001")
    assert second is not first and second.incident.status == "notified"
    service.block(ctx, who, "INC-0001", expire="1h")
    assert {a.status for a in service.page_data(ctx, who, "INC-0001").actions} == {"active"}


def test_blocks_page_unblock_button(site: Site) -> None:
    c, csrf = _login(site, "min-analyst")
    page = c.get("/blocks").text
    assert 'action="/blocks/ACT-0001/unblock"' in page  # the seeded block of INC-0003
    r = c.post("/blocks/ACT-0001/unblock", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/blocks?done=unblock"
    assert site.ctx.actions.get(1).status == "rolled-back"
    assert "遮断を解除しました" in c.get(r.headers["location"]).text
    viewer, _ = _login(site, "min-viewer")
    assert 'action="/blocks/' not in viewer.get("/blocks").text
