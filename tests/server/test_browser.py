"""A real browser against a real `leaktrace serve`: log in, open the leak's incident, see the documents taken and
a chart, block the server (exports-only backend: no firewall is touched), download the PDF, add a user and give
it an API token. Screenshots are saved under tests/artifacts/ (git-ignored) and their paths printed.

Chromium is Debian's (/usr/bin/chromium), driven by the `playwright` package; `playwright install` is never run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .pg import free_port

CHROMIUM = os.environ.get("LEAKTRACE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "browser test password"


def _need(what: str, ok: bool) -> None:
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing and CI is set: the browser tests must run in CI")
    pytest.skip(f"{what} is missing (apt-get install chromium; pip install playwright)")


@dataclass
class Served:
    url: str
    incident: str
    server_ip: str
    ws_root: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    _need("chromium", Path(CHROMIUM).exists() or shutil.which("chromium") is not None)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need("the playwright package", False)
    from leaktrace.documents import Inventory, scan
    from leaktrace.incidents import analyze
    from leaktrace.ingest import ingest_paths
    from leaktrace.server.accounts import Accounts
    from leaktrace.sim import simulate
    from leaktrace.workspace import Workspace

    root = tmp_path_factory.mktemp("browser")
    sim = root / "sim"
    simulate(sim, hosts=12, days=1, seed=3)
    truth = json.loads((sim / "ground_truth.json").read_text(encoding="utf-8"))
    ws = Workspace.init(root / "ws", internal=["10.0.0.0/8"], tenant="ministry")
    cfg = ws.root / "leaktrace.toml"
    text = cfg.read_text(encoding="utf-8")
    assert 'backends = ["nftables", "csv"]' in text
    cfg.write_text(text.replace('backends = ["nftables", "csv"]', 'backends = ["csv"]'), encoding="utf-8")
    ws = Workspace.open(ws.root)
    ingest_paths(ws, [sim / "zeek", sim / "endpoint"])
    with Inventory(ws) as inv:
        inv.upsert(list(scan([sim / "share"], ws.config)))
    result = analyze(ws)
    leak = next(i for i in result.incidents if i.host_ip == truth["compromised_host"]["ip"]
                and i.server_ip == truth["exfil_server"]["ip"])
    Accounts.for_workspace(ws).add_user("analyst", "tenant-analyst", "ministry", PASSWORD, actor="test")

    port = free_port()
    log = (root / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "leaktrace", "serve", "-w", str(ws.root), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/login", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"leaktrace serve did not start: {(root / 'serve.log').read_text()}") from None
                time.sleep(0.3)
        yield Served(url=url, incident=leak.id, server_ip=leak.server_ip or "", ws_root=ws.root)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def page(served: Served) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                    args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True,
                                      locale="ja-JP")
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        yield pg
        context.close()
        browser.close()


def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def test_investigate_block_and_download(served: Served, page: Any, tmp_path: Path) -> None:
    page.goto(f"{served.url}/incidents")
    assert "/login" in page.url
    _shot(page, "01-login")
    page.fill("input[name=name]", "analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/incidents")
    rows = page.locator("#incidents tbody tr")
    assert rows.count() > 3
    _shot(page, "02-incidents")

    page.fill("input[name=q]", served.server_ip)
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state()
    page.click(f"a[href='/incidents/{served.incident}']")
    page.wait_for_url(f"**/incidents/{served.incident}")
    docs = page.locator("#documents-taken tbody tr")
    assert docs.count() >= 5, page.content()[:2000]
    assert "機密性" in page.locator("#documents-taken").inner_text()
    assert page.locator(".charts svg").count() == 3
    assert page.locator(".charts svg rect[fill='#c0392b']").count() > 0  # bytes over time has bars
    _shot(page, "03-incident-ja")

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#block-button")
    page.wait_for_selector("#unblock-button")
    assert served.server_ip in page.locator("#actions").inner_text()
    _shot(page, "04-blocked")
    exports = served.ws_root / "state" / "exports" / "blocklist.csv"
    assert served.server_ip in exports.read_text(encoding="utf-8")

    with page.expect_download() as info:
        page.click("#download-pdf")
    pdf = tmp_path / "report.pdf"
    info.value.save_as(str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000

    page.goto(f"{served.url}/incidents/{served.incident}?lang=en")
    assert "Documents probably taken" in page.content()
    _shot(page, "05-incident-en")
    for name, path in (("06-documents", "/documents"), ("07-blocks", "/blocks"), ("08-audit", "/audit")):
        page.goto(served.url + path)
        _shot(page, name)
    assert "block" in page.locator("#audit").inner_text()

    # the analyst manages its tenant's accounts: add a viewer, give it a token (shown once)
    page.click("#nav-users")
    page.wait_for_url(f"{served.url}/users")
    page.fill("#add-user input[name=name]", "viewer1")
    page.fill("#add-user input[name=password]", "viewer password 123")
    page.click("#add-user button[type=submit]")
    page.wait_for_url("**/users/viewer1?done=user-add")
    page.fill("#create-token input[name=label]", "siem")
    page.click("#token-button")
    page.wait_for_selector("#new-token-value")
    assert page.locator("#new-token-value").inner_text().startswith("lt_")
    _shot(page, "09-user-token")
