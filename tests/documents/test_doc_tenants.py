"""Tenants kept apart in the document inventory: one SQLite file, every row a tenant's, every read and write of an
:class:`Inventory` limited to its tenant; and the migration of version-1 files (no tenant column)."""

from __future__ import annotations

import os
import sqlite3
import zipfile
from pathlib import Path

import pytest

from leaktrace.documents.fingerprint import fingerprints
from leaktrace.documents.model import DocumentRecord
from leaktrace.documents.scanner import scan
from leaktrace.documents.store import DB_NAME, SCHEMA_VERSION, Inventory
from leaktrace.errors import LeaktraceError
from leaktrace.workspace import Workspace

from .test_doc_inventory import make_share, sentences

A, B = "ministry", "agency"


def _leak_of_budget() -> str:
    """30 % of 予算.docx (see ``make_share``) between unrelated text, as an upload would carry it."""
    return "\n".join(sentences(30, 99) + sentences(60, 1)[20:38] + sentences(30, 98))


# -- two tenants, one file -------------------------------------------------------------------------------------
def test_same_path_and_file_are_stored_for_both_tenants(tmp_path: Path) -> None:
    share = make_share(tmp_path)
    state = tmp_path / "state"
    with Inventory(state, A) as a, Inventory(state, B) as b:
        assert a.upsert(scan([share])) == 5
        again = list(scan([share], previous=b))  # B never scanned it: A's rows are not B's "previous"
        assert {r.origin for r in again} == {"extracted"}
        assert b.upsert(again) == 5
        assert len(a) == len(b) == 5
        budget = share / "課" / "予算.docx"
        ra, rb = a.by_path(budget), b.by_path(budget)
        assert ra is not None and rb is not None and ra.doc_id == rb.doc_id  # same path, same id: both kept
        assert [r.path for r in a.by_sha256(ra.sha256)] == [ra.path]  # one row, not the other tenant's too
        assert a.by_sha256(ra.text_sha256 or "") == a.by_sha256(ra.sha256)
        assert [r.path for r in a] == [r.path for r in b.all()]
    with sqlite3.connect(state / DB_NAME) as db:
        assert db.execute("SELECT tenant, count(*) FROM documents GROUP BY tenant ORDER BY tenant").fetchall() == [
            (B, 5), (A, 5)]


def test_each_tenant_sees_only_its_own(tmp_path: Path) -> None:
    share = make_share(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.txt").write_text("機密性２\n連絡先 hanako@example.go.jp\n", encoding="utf-8")
    state = tmp_path / "state"
    with Inventory(state, A) as a:
        a.upsert(scan([share]))
    with Inventory(state, B) as b:
        b.upsert(scan([other]))
        assert [Path(r.path).name for r in b.all()] == ["note.txt"] and len(b) == 1
        assert b.by_path(share / "名簿.docx") is None
        assert [Path(r.path).name for r in b.all(level="機密性2")] == ["note.txt"]
        with Inventory(state, A) as a:
            roster = a.by_path(share / "名簿.docx")
        assert roster is not None and b.by_sha256(roster.sha256) == []
    with Inventory(state) as nobody:  # the "default" tenant scanned nothing
        assert len(nobody) == 0 and nobody.all() == [] and list(nobody) == []


def test_match_fingerprint_never_returns_another_tenants_document(tmp_path: Path) -> None:
    share = make_share(tmp_path)
    state = tmp_path / "state"
    leak = fingerprints(_leak_of_budget())
    with Inventory(state, A) as a, Inventory(state, B) as b:
        a.upsert(scan([share]))
        assert [Path(m.path).name for m in a.match_fingerprint(leak)] == ["予算.docx"]
        assert b.match_fingerprint(leak) == []  # the index is B's: empty, though A's file matches
        b.upsert(scan([share]))  # now B holds the same file, under the same path and doc_id
        for inv in (a, b):
            matches = inv.match_fingerprint(leak)
            assert [Path(m.path).name for m in matches] == ["予算.docx"]  # once, not once per tenant
            assert 0.2 < matches[0].containment < 0.4


def test_prune_and_rewrites_leave_the_other_tenant_alone(tmp_path: Path) -> None:
    share = make_share(tmp_path)
    z = share / "a.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("one.txt", "機密性２")
        f.writestr("two.txt", "x")
    state = tmp_path / "state"
    with Inventory(state, A) as a, Inventory(state, B) as b:
        a.upsert(scan([share]))
        b.upsert(scan([share]))
        assert len(a) == len(b) == 8
        memo = share / "memo.txt"
        b_memo = b.by_path(memo)
        assert b_memo is not None
        # A sees the file gone: A's row is pruned, B's stays
        memo.unlink()
        assert a.prune([str(share)], {r.path for r in scan([share], previous=a)}) == 1
        assert a.by_path(memo) is None and len(a) == 7
        assert b.by_path(memo) == b_memo and len(b) == 8
        # A re-reads the archive: A's old members go (the DELETEs of upsert), B's stay
        with zipfile.ZipFile(z, "w") as f:
            f.writestr("three.txt", "y")
        os.utime(z, ns=(1, 2))
        a.upsert(scan([share], previous=a))
        assert sorted(Path(m.path.rsplit("!/", 1)[-1]).name for m in a.members(str(z))) == ["three.txt"]
        assert sorted(Path(m.path.rsplit("!/", 1)[-1]).name for m in b.members(str(z))) == ["one.txt", "two.txt"]
        # a same-hash update (new mtime, same bytes) of A's record does not touch B's
        roster = share / "名簿.docx"
        st = roster.stat()
        os.utime(roster, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))
        assert {Path(r.path).name: r.origin for r in scan([share], previous=a)}["名簿.docx"] == "same-hash"
        a.upsert(scan([share], previous=a))
        a_roster, b_roster = a.by_path(roster), b.by_path(roster)
        assert a_roster is not None and b_roster is not None
        assert a_roster.mtime_ns == st.st_mtime_ns + 7_000_000_000 and b_roster.mtime_ns == st.st_mtime_ns


def test_tenant_defaults_to_the_workspace(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", tenant=A)
    with Inventory(ws) as inv:
        assert inv.tenant == A and inv.path == ws.state_dir / DB_NAME
    with Inventory(ws, B) as inv:
        assert inv.tenant == B
    with Inventory(tmp_path / "elsewhere") as inv:
        assert inv.tenant == "default"
    with pytest.raises(LeaktraceError, match="must not be empty"):
        Inventory(ws, " ")


# -- migration of version-1 files ------------------------------------------------------------------------------
V1_DDL = """
CREATE TABLE documents (
  doc_id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, container TEXT, size INTEGER, mtime_ns INTEGER,
  sha256 TEXT, text_sha256 TEXT, text_chars INTEGER, format TEXT, status TEXT, reason TEXT, title TEXT,
  scheme TEXT, level TEXT, level_rank INTEGER, qualifiers TEXT, channels TEXT, confidence REAL, evidence TEXT,
  pii_counts TEXT, pii_high TEXT, people_estimate INTEGER, fingerprints BLOB, fp_count INTEGER, extracted_at TEXT
);
CREATE INDEX documents_sha256 ON documents(sha256);
CREATE INDEX documents_text_sha256 ON documents(text_sha256);
CREATE INDEX documents_container ON documents(container);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO meta VALUES ('schema_version', '1'), ('fp_k', '5'), ('fp_w', '4');
"""
LEAKED = "\n".join(sentences(40, 5))


def _write_v1(path: Path, ddl: str = V1_DDL) -> None:
    """A version-1 inventory as leaktrace wrote it before tenants: a zip, its member, and a plain file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = b"".join(int(v).to_bytes(8, "little", signed=True) for v in sorted(fingerprints(LEAKED)))
    rows = [
        ("id-zip", "/share/a.zip", None, 300, 1, "aa" * 32, None, 0, "zip", "ok", None, None, None, "機密性2", 20,
         "[]", "[]", 0.9, "[]", "{}", "{}", 0, b"", 0, "2026-01-01T00:00:00"),
        ("id-member", "/share/a.zip!/x.txt", "/share/a.zip", 100, 1, "bb" * 32, "cc" * 32, 800, "text", "ok",
         None, "x", "jp-gov", "機密性2", 20, '["秘"]', '["header"]', 0.9, "[]", '{"email": 2}', "{}", 2, blob,
         len(blob) // 8, "2026-01-01T00:00:00"),
        ("id-pdf", "/share/b.pdf", None, 200, 1, "dd" * 32, None, 0, "pdf", "encrypted", "password", None, None,
         None, 0, "[]", "[]", 0.0, "[]", "{}", "{}", 0, b"", 0, "2026-01-01T00:00:00"),
    ]
    with sqlite3.connect(path) as db:
        db.executescript(ddl)
        db.executemany(f"INSERT INTO documents VALUES ({','.join('?' * 25)})", rows)
    db.close()


def _meta(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        out = dict(db.execute("SELECT key, value FROM meta").fetchall())
    db.close()
    return out


def _tenants(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        out = db.execute("SELECT tenant, doc_id FROM documents ORDER BY doc_id").fetchall()
    db.close()
    return out


def test_version_1_file_is_migrated_to_the_workspace_tenant(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", tenant=A)
    db_path = ws.state_dir / DB_NAME
    _write_v1(db_path)
    with Inventory(ws, B) as other:  # opened first by another tenant: the rows still go to who scanned them
        assert len(other) == 0 and other.match_fingerprint(fingerprints(LEAKED)) == []
    assert _meta(db_path)["schema_version"] == str(SCHEMA_VERSION) == "2"
    assert _tenants(db_path) == [(A, "id-member"), (A, "id-pdf"), (A, "id-zip")]
    with Inventory(ws) as inv:
        assert [r.path for r in inv.all()] == ["/share/a.zip", "/share/a.zip!/x.txt", "/share/b.pdf"]
        member = inv.by_path("/share/a.zip!/x.txt")
        assert member is not None
        assert (member.level, member.qualifiers, member.pii_counts, member.container) == (
            "機密性2", ["秘"], {"email": 2}, "/share/a.zip")
        assert member.fingerprints == fingerprints(LEAKED)
        assert [m.doc_id for m in inv.match_fingerprint(fingerprints(LEAKED))] == ["id-member"]
        assert [r.doc_id for r in inv.members("/share/a.zip")] == ["id-member"]
        assert [r.doc_id for r in inv.by_sha256("cc" * 32)] == ["id-member"]
    # the same path for another tenant is now allowed (per-tenant uniqueness after the migration); B's record,
    # under another doc_id, replaces nothing of A's
    with Inventory(ws, B) as other:
        other.upsert([DocumentRecord(doc_id="id-pdf-of-b", path="/share/b.pdf", size=1, mtime_ns=0,
                                     sha256="ee" * 32, format="pdf")])
        assert [r.sha256 for r in other.all()] == ["ee" * 32]
    with Inventory(ws) as inv:  # re-opening is idempotent: nothing migrated twice, nothing lost
        assert len(inv) == 3 and (by := inv.by_path("/share/b.pdf")) is not None and by.sha256 == "dd" * 32
    assert _meta(db_path) == {"schema_version": "2", "fp_k": "5", "fp_w": "4"}
    with sqlite3.connect(db_path) as db:
        cols = [r[1] for r in db.execute("PRAGMA table_info(documents)")]
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert cols[0] == "tenant" and "documents_v2" not in names and "documents_sha256" not in names


def test_version_1_file_opened_by_path_finds_its_workspace(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", tenant=A)
    _write_v1(ws.state_dir / DB_NAME)
    with Inventory(ws.state_dir) as inv:  # bound to "default", but the rows are the workspace tenant's
        assert inv.tenant == "default" and len(inv) == 0
    assert {t for t, _ in _tenants(ws.state_dir / DB_NAME)} == {A}
    loose = tmp_path / "copy" / DB_NAME  # outside a workspace: the default tenant
    _write_v1(loose)
    with Inventory(loose) as inv:
        assert len(inv) == 3


def test_failed_migration_changes_nothing(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", tenant=A)
    db_path = ws.state_dir / DB_NAME
    _write_v1(db_path, V1_DDL.replace(" extracted_at TEXT", " extracted TEXT"))  # not the layout it claims
    with pytest.raises(LeaktraceError) as err:
        Inventory(ws)
    assert str(db_path) in str(err.value)
    assert _meta(db_path)["schema_version"] == "1"
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
        assert {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == {
            "documents", "meta"}
    db.close()


@pytest.mark.parametrize("version", ["3", "0", "two"])
def test_unknown_or_newer_version_is_refused(tmp_path: Path, version: str) -> None:
    db_path = tmp_path / "state" / DB_NAME
    _write_v1(db_path)
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    db.close()
    with pytest.raises(LeaktraceError, match="schema version") as err:
        Inventory(db_path)
    assert str(db_path) in str(err.value)
    assert _meta(db_path)["schema_version"] == version  # refused, not touched


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    db_path = tmp_path / "state" / DB_NAME
    db_path.parent.mkdir()
    db_path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(LeaktraceError, match="cannot open the document inventory") as err:
        Inventory(db_path)
    assert str(db_path) in str(err.value)
