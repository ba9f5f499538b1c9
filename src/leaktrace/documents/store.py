"""The inventory store: ``<workspace>/state/documents.sqlite`` (stdlib sqlite3, WAL).

One row per document and tenant (archive members and mail attachments included, ``path = outer.zip!/inner.docx``,
``container`` = the enclosing path). Lists/dicts are JSON text; fingerprints are a BLOB of sorted
little-endian int64 (8 bytes each, see ``fingerprint``). No extracted text is stored — only hashes, counts
and the markings that decided the level.

Tenants are kept apart: every row carries the ``tenant`` that scanned it, ``(tenant, path)`` is unique and
``(tenant, doc_id)`` the key, so two organisations may hold the same file. An :class:`Inventory` is bound to
one tenant; every read and write it does touches only that tenant's rows.

Schema versions (``meta.schema_version``): 1 had no tenant column; 2 adds it. A version-1 file is migrated
when opened, in one transaction, its rows kept and given the tenant of the workspace that holds the file (the
one that scanned them). A newer or unknown version is refused with a :class:`LeaktraceError` naming the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from leaktrace.config import CONFIG_NAME, load_config
from leaktrace.documents import fingerprint as fp
from leaktrace.documents.model import DocumentRecord, Status
from leaktrace.errors import LeaktraceError, Location
from leaktrace.workspace import Workspace

DB_NAME = "documents.sqlite"
SCHEMA_VERSION = 2
DEFAULT_TENANT = "default"
_JSON = ("qualifiers", "channels", "evidence", "pii_counts", "pii_high")
COLUMNS = (
    "doc_id", "path", "container", "size", "mtime_ns", "sha256", "text_sha256", "text_chars", "format", "status",
    "reason", "title", "scheme", "level", "level_rank", "qualifiers", "channels", "confidence", "evidence",
    "pii_counts", "pii_high", "people_estimate", "fingerprints", "fp_count", "extracted_at",
)
_TABLE = """
CREATE TABLE {name} (
  tenant TEXT NOT NULL, doc_id TEXT NOT NULL, path TEXT NOT NULL, container TEXT, size INTEGER, mtime_ns INTEGER,
  sha256 TEXT, text_sha256 TEXT, text_chars INTEGER, format TEXT, status TEXT, reason TEXT, title TEXT,
  scheme TEXT, level TEXT, level_rank INTEGER, qualifiers TEXT, channels TEXT, confidence REAL, evidence TEXT,
  pii_counts TEXT, pii_high TEXT, people_estimate INTEGER, fingerprints BLOB, fp_count INTEGER, extracted_at TEXT,
  PRIMARY KEY (tenant, doc_id), UNIQUE (tenant, path)
)"""
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS documents_tenant_sha256 ON documents(tenant, sha256)",
    "CREATE INDEX IF NOT EXISTS documents_tenant_text_sha256 ON documents(tenant, text_sha256)",
    "CREATE INDEX IF NOT EXISTS documents_tenant_container ON documents(tenant, container)",
)
_META = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    f"INSERT OR IGNORE INTO meta VALUES ('fp_k', '{fp.K}'), ('fp_w', '{fp.W}')",
    f"INSERT OR REPLACE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}')",
)


_ALL = ", ".join(COLUMNS)  # every column but the tenant (the Inventory is bound to one)


@dataclass(frozen=True)
class FingerprintMatch:
    doc_id: str
    path: str
    level: str | None
    level_rank: int
    containment: float  # share of the document's fingerprints found in the query ("how much of it left")
    coverage: float  # share of the query's fingerprints that come from this document
    shared: int


def _row(rec: DocumentRecord) -> tuple[Any, ...]:
    values: dict[str, Any] = {
        **{c: getattr(rec, c) for c in COLUMNS if c not in ("fingerprints", "fp_count", "status")},
        "status": str(rec.status),
        "fingerprints": fp.pack(rec.fingerprints),
        "fp_count": len(rec.fingerprints),
    }
    for c in _JSON:
        values[c] = json.dumps(values[c], ensure_ascii=False)
    return tuple(values[c] for c in COLUMNS)


def _record(row: sqlite3.Row, with_fingerprints: bool) -> DocumentRecord:
    d = {c: row[c] for c in row.keys() if c not in ("fingerprints", "fp_count")}  # noqa: SIM118
    for c in _JSON:
        d[c] = json.loads(d[c]) if d[c] else ([] if c in ("qualifiers", "channels", "evidence") else {})
    d["status"] = Status(d["status"])
    rec = DocumentRecord(**d)
    if with_fingerprints:
        rec.fingerprints = frozenset(fp.unpack(row["fingerprints"]).tolist())
    return rec


class Inventory:
    """The document inventory of one tenant, in a workspace (or in an explicit SQLite file / folder).

    ``tenant`` defaults to the workspace's tenant (``ws.tenant``) when given a :class:`Workspace`, else to
    ``"default"``. Reads see only that tenant's documents; writes change only its rows.
    """

    def __init__(self, ws_or_path: Workspace | Path | str, tenant: str | None = None) -> None:
        if isinstance(ws_or_path, Workspace):
            path = ws_or_path.state_dir / DB_NAME
            owner = ws_or_path.tenant
        else:
            path = Path(ws_or_path)
            if path.is_dir() or not path.suffix:
                path = path / DB_NAME
            owner = None
        tenant = (owner or DEFAULT_TENANT) if tenant is None else tenant
        if not tenant or not tenant.strip():
            raise LeaktraceError("the tenant of a document inventory must not be empty", Location(path=str(path)))
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.tenant = tenant
        self._legacy_tenant = owner  # who scanned the rows of a version-1 file (None: found from the file)
        self.db = sqlite3.connect(str(path))
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self._open_schema()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise LeaktraceError(f"cannot open the document inventory: {exc}", Location(path=str(path))) from exc
        except BaseException:
            self.db.close()
            raise
        self._index: tuple[np.ndarray, np.ndarray, list[sqlite3.Row]] | None = None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------------------------
    def _schema_version(self) -> int | None:
        """The file's schema version; None for a new (empty) file."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        raw = None
        if "meta" in tables:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            raw = row[0] if row is not None else None
        if raw is None:
            if "documents" not in tables:
                return None
            cols = {r[1] for r in self.db.execute("PRAGMA table_info(documents)")}
            return 2 if "tenant" in cols else 1
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise LeaktraceError(f"unknown schema version {raw!r} of the document inventory",
                                 Location(path=str(self.path))) from None

    def _open_schema(self) -> None:
        """Create the tables of a new file, migrate an old one, refuse a newer one. Idempotent."""
        version = self._schema_version()
        if version == SCHEMA_VERSION:
            return
        self._check_version(version)
        self.db.execute("BEGIN IMMEDIATE")  # one writer creates or migrates; the others wait, then find it done
        try:
            version = self._schema_version()
            self._check_version(version)
            if version is None:
                self.db.execute(_TABLE.format(name="documents"))
            elif version == 1:
                self._migrate_v1()
            for sql in (*_INDEXES, *_META):
                self.db.execute(sql)
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise

    def _check_version(self, version: int | None) -> None:
        if version is not None and not 1 <= version <= SCHEMA_VERSION:
            raise LeaktraceError(
                f"document inventory schema version {version} is not one this leaktrace reads "
                f"(1 to {SCHEMA_VERSION}; was the file written by a newer leaktrace?)", Location(path=str(self.path)))

    def _migrate_v1(self) -> None:
        """Version 1 → 2 (inside the caller's transaction): copy every row with the tenant that scanned it."""
        owner = self._legacy_tenant or _workspace_tenant(self.path)
        cols = ", ".join(COLUMNS)
        self.db.execute(_TABLE.format(name="documents_v2"))
        self.db.execute(f"INSERT INTO documents_v2 (tenant, {cols}) SELECT ?, {cols} FROM documents", (owner,))
        self.db.execute("DROP TABLE documents")  # its indexes go with it
        self.db.execute("ALTER TABLE documents_v2 RENAME TO documents")

    # -- writing -------------------------------------------------------------------------------------------
    def upsert(self, records: Iterable[DocumentRecord]) -> int:
        """Insert or replace this tenant's records; ``unchanged`` ones are skipped, ``same-hash`` ones only get
        size/mtime.

        Returns the number of rows written.
        """
        n = 0
        placeholders = ",".join("?" * (len(COLUMNS) + 1))
        t = self.tenant
        with self.db:
            for rec in records:
                if rec.origin == "unchanged":
                    continue
                if rec.origin == "same-hash":
                    self.db.execute("UPDATE documents SET size=?, mtime_ns=? WHERE tenant=? AND path=?",
                                    (rec.size, rec.mtime_ns, t, rec.path))
                else:
                    self.db.execute("DELETE FROM documents WHERE tenant=? AND path=? AND doc_id<>?",
                                    (t, rec.path, rec.doc_id))
                    if rec.container is None:  # a re-read container: its old members go, new ones follow
                        self.db.execute("DELETE FROM documents WHERE tenant=? AND path LIKE ? ESCAPE '\\'",
                                        (t, _like_prefix(rec.path + "!/")))
                    self.db.execute(f"INSERT OR REPLACE INTO documents (tenant, {', '.join(COLUMNS)}) "
                                    f"VALUES ({placeholders})", (t, *_row(rec)))
                n += 1
        self._index = None
        return n

    def prune(self, roots: Iterable[str], seen: Collection[str]) -> int:
        """Delete this tenant's records under ``roots`` (files, folders, their members) whose path was not seen."""
        seen_set = set(seen)
        doomed = []
        for root in roots:
            for (path,) in self.db.execute(
                "SELECT path FROM documents WHERE tenant = ? AND (path = ? OR path LIKE ? ESCAPE '\\')",
                (self.tenant, root, _like_prefix(root.rstrip("/") + "/")),
            ):
                top = path.split("!/", 1)[0]
                if top not in seen_set:
                    doomed.append(path)
        with self.db:
            self.db.executemany("DELETE FROM documents WHERE tenant=? AND path=?", [(self.tenant, p) for p in doomed])
        self._index = None
        return len(doomed)

    # -- reading -------------------------------------------------------------------------------------------
    def all(self, with_fingerprints: bool = False, level: str | None = None) -> list[DocumentRecord]:
        cols = ", ".join(c for c in COLUMNS if with_fingerprints or c != "fingerprints")
        sql = f"SELECT {cols} FROM documents WHERE tenant = ?"
        args: tuple[str, ...] = (self.tenant,)
        if level is not None:
            sql, args = sql + " AND level = ?", (*args, level)
        return [_record(r, with_fingerprints) for r in self.db.execute(sql + " ORDER BY path", args)]

    def __iter__(self) -> Iterator[DocumentRecord]:
        return iter(self.all())

    def __len__(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM documents WHERE tenant = ?", (self.tenant,)).fetchone()[0])

    def by_sha256(self, h: str) -> list[DocumentRecord]:
        """Documents whose file SHA-256 — or normalised-text SHA-256 — is ``h``."""
        rows = self.db.execute(f"SELECT {_ALL} FROM documents WHERE tenant = ? AND (sha256 = ? OR text_sha256 = ?) "
                               "ORDER BY path", (self.tenant, h, h))
        return [_record(r, True) for r in rows]

    def by_path(self, p: str | Path) -> DocumentRecord | None:
        row = self.db.execute(f"SELECT {_ALL} FROM documents WHERE tenant = ? AND path = ?",
                              (self.tenant, str(p))).fetchone()
        return _record(row, True) if row is not None else None

    def members(self, container: str) -> list[DocumentRecord]:
        rows = self.db.execute(
            f"SELECT {_ALL} FROM documents WHERE tenant = ? AND path LIKE ? ESCAPE '\\' ORDER BY path",
            (self.tenant, _like_prefix(container + "!/")),
        )
        return [_record(r, True) for r in rows]
    def match_fingerprint(self, fps: Collection[int], min_containment: float = 0.1,
                          max_doc_freq: float | None = 0.05) -> list[FingerprintMatch]:
        """This tenant's documents whose fingerprints are contained in ``fps`` (e.g. those of a leaked blob).

        Fingerprints shared by more than ``max_doc_freq`` of the documents (letterheads, 「機密性２情報」
        boilerplate) are ignored when the tenant's inventory holds at least 50 documents.
        """
        if not fps:
            return []
        all_fps, owner, rows = self._load_index()
        if len(all_fps) == 0:
            return []
        q = np.unique(np.fromiter(fps, dtype=np.int64, count=len(fps)))
        if max_doc_freq is not None and len(rows) >= 50:
            uniq, counts = np.unique(all_fps, return_counts=True)
            common = uniq[counts > max(2, max_doc_freq * len(rows))]
            if len(common):
                keep = ~np.isin(all_fps, common)
                all_fps, owner = all_fps[keep], owner[keep]
                q = q[~np.isin(q, common)]
        sizes = np.bincount(owner, minlength=len(rows))
        shared = np.bincount(owner[np.isin(all_fps, q)], minlength=len(rows))
        out = []
        for i in np.nonzero(shared)[0]:
            cont = float(shared[i] / sizes[i])
            if cont >= min_containment:
                r = rows[i]
                out.append(FingerprintMatch(r["doc_id"], r["path"], r["level"], r["level_rank"] or 0, round(cont, 4),
                                            round(float(shared[i] / max(1, len(q))), 4), int(shared[i])))
        return sorted(out, key=lambda m: (-m.containment, -m.shared, m.path))

    def _load_index(self) -> tuple[np.ndarray, np.ndarray, list[sqlite3.Row]]:
        if self._index is None:
            rows = list(self.db.execute(
                "SELECT doc_id, path, level, level_rank, fingerprints FROM documents WHERE tenant = ? AND fp_count > 0 "
                "ORDER BY path", (self.tenant,)))
            arrays = [fp.unpack(r["fingerprints"]) for r in rows]
            all_fps = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
            owner = np.repeat(np.arange(len(rows), dtype=np.int64), [len(a) for a in arrays])
            self._index = (all_fps, owner, rows)
        return self._index


def _workspace_tenant(path: Path) -> str:
    """The tenant of the workspace holding ``<root>/state/documents.sqlite``; ``"default"`` outside one."""
    cfg = path.parent.parent / CONFIG_NAME
    if path.parent.name == "state" and cfg.is_file():
        return load_config(cfg).ingest.default_tenant
    return DEFAULT_TENANT


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
