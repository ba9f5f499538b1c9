"""The inventory store: ``<workspace>/state/documents.sqlite`` (stdlib sqlite3, WAL).

One row per document (archive members and mail attachments included, ``path = outer.zip!/inner.docx``,
``container`` = the enclosing path). Lists/dicts are JSON text; fingerprints are a BLOB of sorted
little-endian int64 (8 bytes each, see ``fingerprint``). No extracted text is stored — only hashes, counts
and the markings that decided the level.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from leaktrace.documents import fingerprint as fp
from leaktrace.documents.model import DocumentRecord, Status
from leaktrace.workspace import Workspace

DB_NAME = "documents.sqlite"
SCHEMA_VERSION = 1
_JSON = ("qualifiers", "channels", "evidence", "pii_counts", "pii_high")
COLUMNS = (
    "doc_id", "path", "container", "size", "mtime_ns", "sha256", "text_sha256", "text_chars", "format", "status",
    "reason", "title", "scheme", "level", "level_rank", "qualifiers", "channels", "confidence", "evidence",
    "pii_counts", "pii_high", "people_estimate", "fingerprints", "fp_count", "extracted_at",
)
_DDL = f"""
CREATE TABLE IF NOT EXISTS documents (
  doc_id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, container TEXT, size INTEGER, mtime_ns INTEGER,
  sha256 TEXT, text_sha256 TEXT, text_chars INTEGER, format TEXT, status TEXT, reason TEXT, title TEXT,
  scheme TEXT, level TEXT, level_rank INTEGER, qualifiers TEXT, channels TEXT, confidence REAL, evidence TEXT,
  pii_counts TEXT, pii_high TEXT, people_estimate INTEGER, fingerprints BLOB, fp_count INTEGER, extracted_at TEXT
);
CREATE INDEX IF NOT EXISTS documents_sha256 ON documents(sha256);
CREATE INDEX IF NOT EXISTS documents_text_sha256 ON documents(text_sha256);
CREATE INDEX IF NOT EXISTS documents_container ON documents(container);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}'), ('fp_k', '{fp.K}'), ('fp_w', '{fp.W}');
"""


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
    """The document inventory of a workspace (or of an explicit SQLite file / folder)."""

    def __init__(self, ws_or_path: Workspace | Path | str) -> None:
        if isinstance(ws_or_path, Workspace):
            path = ws_or_path.state_dir / DB_NAME
        else:
            path = Path(ws_or_path)
            if path.is_dir() or not path.suffix:
                path = path / DB_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path))
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_DDL)
        self._index: tuple[np.ndarray, np.ndarray, list[sqlite3.Row]] | None = None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------------------
    def upsert(self, records: Iterable[DocumentRecord]) -> int:
        """Insert or replace records; ``unchanged`` ones are skipped, ``same-hash`` ones only get size/mtime.

        Returns the number of rows written.
        """
        n = 0
        placeholders = ",".join("?" * len(COLUMNS))
        with self.db:
            for rec in records:
                if rec.origin == "unchanged":
                    continue
                if rec.origin == "same-hash":
                    self.db.execute("UPDATE documents SET size=?, mtime_ns=? WHERE path=?", (rec.size, rec.mtime_ns, rec.path))
                else:
                    self.db.execute("DELETE FROM documents WHERE path=? AND doc_id<>?", (rec.path, rec.doc_id))
                    if rec.container is None:  # a re-read container: its old members go, new ones follow
                        self.db.execute("DELETE FROM documents WHERE path LIKE ? ESCAPE '\\'",
                                        (_like_prefix(rec.path + "!/"),))
                    self.db.execute(f"INSERT OR REPLACE INTO documents VALUES ({placeholders})", _row(rec))
                n += 1
        self._index = None
        return n

    def prune(self, roots: Iterable[str], seen: Collection[str]) -> int:
        """Delete records under ``roots`` (files, folders, their members) whose path was not seen."""
        seen_set = set(seen)
        doomed = []
        for root in roots:
            for (path,) in self.db.execute(
                "SELECT path FROM documents WHERE path = ? OR path LIKE ? ESCAPE '\\'",
                (root, _like_prefix(root.rstrip("/") + "/")),
            ):
                top = path.split("!/", 1)[0]
                if top not in seen_set:
                    doomed.append(path)
        with self.db:
            self.db.executemany("DELETE FROM documents WHERE path=?", [(p,) for p in doomed])
        self._index = None
        return len(doomed)

    # -- reading -------------------------------------------------------------------------------------------
    def all(self, with_fingerprints: bool = False, level: str | None = None) -> list[DocumentRecord]:
        cols = "*" if with_fingerprints else ", ".join(c for c in COLUMNS if c != "fingerprints")
        sql = f"SELECT {cols} FROM documents"
        args: tuple[str, ...] = ()
        if level is not None:
            sql, args = sql + " WHERE level = ?", (level,)
        return [_record(r, with_fingerprints) for r in self.db.execute(sql + " ORDER BY path", args)]

    def __iter__(self) -> Iterator[DocumentRecord]:
        return iter(self.all())

    def __len__(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM documents").fetchone()[0])

    def by_sha256(self, h: str) -> list[DocumentRecord]:
        """Documents whose file SHA-256 — or normalised-text SHA-256 — is ``h``."""
        rows = self.db.execute("SELECT * FROM documents WHERE sha256 = ? OR text_sha256 = ? ORDER BY path", (h, h))
        return [_record(r, True) for r in rows]

    def by_path(self, p: str | Path) -> DocumentRecord | None:
        row = self.db.execute("SELECT * FROM documents WHERE path = ?", (str(p),)).fetchone()
        return _record(row, True) if row is not None else None

    def members(self, container: str) -> list[DocumentRecord]:
        rows = self.db.execute(
            "SELECT * FROM documents WHERE path LIKE ? ESCAPE '\\' ORDER BY path", (_like_prefix(container + "!/"),)
        )
        return [_record(r, True) for r in rows]

    def match_fingerprint(self, fps: Collection[int], min_containment: float = 0.1,
                          max_doc_freq: float | None = 0.05) -> list[FingerprintMatch]:
        """Documents whose fingerprints are contained in ``fps`` (e.g. the fingerprints of a leaked blob).

        Fingerprints shared by more than ``max_doc_freq`` of the documents (letterheads, 「機密性２情報」
        boilerplate) are ignored when the inventory holds at least 50 documents.
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
                "SELECT doc_id, path, level, level_rank, fingerprints FROM documents WHERE fp_count > 0 ORDER BY path"))
            arrays = [fp.unpack(r["fingerprints"]) for r in rows]
            all_fps = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
            owner = np.repeat(np.arange(len(rows), dtype=np.int64), [len(a) for a in arrays])
            self._index = (all_fps, owner, rows)
        return self._index


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
