"""Fixtures of the server tests: a workspace with two tenants, incidents inserted directly, a small document
inventory per tenant, four users (centre, tenant analyst, tenant viewer, another tenant's analyst) with API tokens; on
SQLite always and on a real PostgreSQL cluster (started here) too."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leaktrace.documents.model import DocumentRecord
from leaktrace.documents.store import Inventory
from leaktrace.incidents.db import FindingRow, IncidentRow
from leaktrace.respond.nft_twin import FakeNft
from leaktrace.server import create_app, service
from leaktrace.server.service import Context
from leaktrace.workspace import Workspace

from .pg import Cluster, cluster, pg_bin

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
USERS = {  # name: (role, tenant)
    "centre": ("centre-analyst", None),
    "min-analyst": ("tenant-analyst", "ministry"),
    "min-viewer": ("tenant-viewer", "ministry"),
    "agy-analyst": ("tenant-analyst", "agency"),
}
# id, tenant, host, server ip, domain, severity, score, kinds
INCIDENTS = [
    ("INC-0001", "ministry", "10.1.0.26", "203.0.113.9", "forum-research71.info", "critical", 0.95,
     ["exfiltration", "beaconing"]),
    ("INC-0002", "ministry", "10.1.0.21", "198.51.100.20", None, "low", 0.3, ["beaconing"]),
    ("INC-0003", "ministry", "10.1.0.22", "203.0.113.77", "cdn-files.example", "medium", 0.55, ["no-dns"]),
    ("INC-0004", "agency", "10.2.0.5", "203.0.113.50", "agency-c2.example", "high", 0.8, ["exfiltration"]),
]
AGENCY_DOC = "/share/agency/plan-of-the-agency.xlsx"
CONFIG = """
[network]
internal = ["10.0.0.0/8"]

[ingest]
default_tenant = "ministry"

[[tenants]]
name = "ministry"
display_name = "Ministry of Examples"

[[tenants]]
name = "agency"
display_name = "Example Agency"

[allowlist]
servers = ["198.51.100.0/24"]

[respond]
backends = ["nftables", "csv"]
default_expire = "7d"
{state}
"""


def _postgres_wanted() -> Path | None:
    found = pg_bin()
    if found is None and os.environ.get("CI"):
        pytest.fail("PostgreSQL is not installed (apt-get install postgresql) and CI is set: the PostgreSQL "
                    "tests must run in CI")
    return found


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    bin_dir = _postgres_wanted()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): apt-get install postgresql")
    with cluster(bin_dir) as c:
        yield c


@dataclass
class Site:
    """A seeded workspace, its app, and a client per user (token auth)."""

    ws: Workspace
    app: Any
    nft: FakeNft
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ctx(self) -> Context:
        ctx: Context = self.app.state.ctx
        return ctx

    def client(self, user: str | None = None) -> TestClient:
        c = TestClient(self.app, raise_server_exceptions=False)
        if user:
            c.headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return c

    def login(self, user: str) -> tuple[TestClient, str]:
        """A browser-like client logged in through the API: (client with the session cookie, CSRF token)."""
        c = TestClient(self.app, raise_server_exceptions=False)
        r = c.post("/api/v1/session", json={"name": user, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return c, r.json()["csrf_token"]

    def close(self) -> None:
        ctx = self.ctx
        for engine in {ctx.store.engine, ctx.actions.engine, ctx.accounts.engine,
                       *(r.store.engine for r in ctx._responders.values())}:
            engine.dispose()


def _documents(ws: Workspace) -> None:
    recs = []
    for i, (level, rank) in enumerate([("機密性3", 30), ("機密性2", 20), ("機密性2", 20), ("機密性1", 10)]):
        recs.append(DocumentRecord(doc_id=f"d{i}", path=f"/share/division/report-{i}.docx", size=10_000 + i,
                                   mtime_ns=0, sha256=f"{i:064x}", format="docx", title=f"report {i}",
                                   scheme="jp-gov", level=level, level_rank=rank, people_estimate=i,
                                   pii_counts={"email": i} if i else {}))
    with Inventory(ws) as inv:  # the workspace's tenant: the ministry
        inv.upsert(recs)
    with Inventory(ws, "agency") as inv:  # the agency's own inventory, which nobody else may see
        inv.upsert([DocumentRecord(doc_id="a0", path=AGENCY_DOC, size=5_000, mtime_ns=0, sha256="a" * 64,
                                   format="xlsx", title="agency plan", scheme="jp-gov", level="機密性2",
                                   level_rank=20)])


def build_site(root: Path, state_url: str | None) -> Site:
    state = f'\n[state]\nurl = "{state_url}"\n' if state_url else ""
    root.mkdir(parents=True, exist_ok=True)
    (root / "leaktrace.toml").write_text(CONFIG.format(state=state), encoding="utf-8")
    ws = Workspace.open(root)
    nft = FakeNft()
    app = create_app(ws, runner=nft)
    site = Site(ws=ws, app=app, nft=nft)
    ctx = site.ctx
    with ctx.store.session() as s:
        for n, (iid, tenant, host, ip, dom, sev, score, kinds) in enumerate(INCIDENTS):
            start = T0 + timedelta(hours=n)
            s.add(IncidentRow(id=iid, tenant=tenant, host_ip=host, host_name=f"pc-{n:04d}", server_ip=ip,
                              server_domain=dom, start=start, end=start + timedelta(hours=2), score=score,
                              severity=sev, kinds=kinds, bytes_out=(n + 1) * 5_000_000, bytes_in=1000,
                              explanation=[{"rule": "test", "score": score}], status="new", origin="analysis",
                              active=True))
            s.add(FindingRow(key=f"k{n}", tenant=tenant, detector="exfil_volume", kind=kinds[0], src_ip=host,
                             dst_ip=ip, dst_domain=dom, first_ts=start, last_ts=start + timedelta(hours=1),
                             score=score, severity=sev, bytes_out=(n + 1) * 5_000_000, bytes_in=1000,
                             conn_count=3, summary=f"{host} sent data to {ip}", evidence={}, uids=[],
                             incident_id=iid))
    _documents(ws)
    for name, (role, tenant) in USERS.items():
        ctx.accounts.add_user(name, role, tenant, PASSWORD, actor="test")
        site.tokens[name] = ctx.accounts.create_token(name, label="tests", actor="test")
    # one block and one note of the ministry, so lists have something another tenant must not see
    centre = ctx.accounts.principal("centre")
    service.block(ctx, centre, "INC-0003", expire="1d", reason="seeded")
    service.add_note(ctx, centre, "INC-0001", "seeded note of the ministry")
    return site


BACKENDS = ["sqlite", "postgresql"]


def _state_url(request: pytest.FixtureRequest, backend: str) -> str | None:
    if backend == "sqlite":
        return None
    c: Cluster = request.getfixturevalue("pg_cluster")
    return c.create_database(f"lt_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """A fresh seeded site per test (tests that change things)."""
    s = build_site(tmp_path / "ws", _state_url(request, request.param))
    yield s
    s.close()


@pytest.fixture(scope="module", params=BACKENDS)
def shared_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One seeded site per module and backend, for tests that change nothing."""
    s = build_site(tmp_path_factory.mktemp("site") / "ws", _state_url(request, request.param))
    yield s
    s.close()
