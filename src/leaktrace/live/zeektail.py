"""``--zeek-dir DIR``: follow a Zeek log folder (TSV or JSON, rotating, optionally gzipped archives).

Each log stream is identified by its header ``#path``/``#open`` lines (TSV) or its first record (JSON), not
by its file name or inode, so a log renamed at rotation or copied into a ``.gz`` archive is recognised as the
stream already being followed. Per stream the state keeps how many data lines were ingested. Each poll, the
new *complete* lines of every file are written to a spool file (the header repeated, so it parses alone)
named after its content hash, and ingested with :func:`leaktrace.ingest.ingest_paths`; the state is saved
after the ingest. The lake is idempotent per content, so a crash between the ingest and the state save
re-ingests nothing: the same lines give the same spool file, which the lake already holds.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leaktrace.live.model import Batch

Ingest = Callable[[list[Path]], Any]
LOG_SUFFIXES = (".log", ".log.gz", ".json", ".json.gz")


@dataclass
class Stream:
    key: str
    header: list[bytes]
    lines: list[bytes]  # complete data lines of the whole file


def _read(path: Path) -> bytes:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def parse(path: Path, data: bytes) -> Stream | None:
    """Header lines, complete data lines and the stream key of one log file (None: no record yet)."""
    end = data.rfind(b"\n")
    if end < 0:
        return None
    header: list[bytes] = []
    lines: list[bytes] = []
    for line in data[: end + 1].splitlines(keepends=True):
        if line.startswith(b"#"):
            if not lines and not line.startswith(b"#close"):
                header.append(line)
            continue
        if line.strip():
            lines.append(line)
    if not lines:
        return None
    ident = [h for h in header if h.startswith((b"#path", b"#open"))] or [lines[0]]
    key = hashlib.sha256(b"".join(ident) + (b"" if header else path.name.split(".")[0].encode())).hexdigest()
    return Stream(key[:24], header, lines)


class ZeekDirSource:
    def __init__(self, log_dir: Path, spool: Path, state_path: Path, ingest: Ingest, name: str = "") -> None:
        self.name = name or f"zeek:{log_dir}"
        self.log_dir = log_dir
        self.spool = spool
        self.state_path = state_path
        self.ingest = ingest
        self.done: dict[str, int] = {}
        self.seen: dict[str, tuple[int, int]] = {}  # file name -> (size, mtime_ns) when last read

    def start(self) -> None:
        if not self.log_dir.is_dir():
            from leaktrace.live.loop import SourceFailed

            raise SourceFailed(f"{self.log_dir}: no such folder")
        self.spool.mkdir(parents=True, exist_ok=True)
        if self.state_path.exists():
            self.done = {k: int(v) for k, v in json.loads(self.state_path.read_text()).items()}

    def _files(self) -> list[Path]:
        return sorted(p for p in self.log_dir.iterdir()
                      if p.is_file() and p.name.endswith(LOG_SUFFIXES) and not p.name.startswith("."))

    def pending(self) -> tuple[list[Path], dict[str, int]]:
        """Spool files holding every not yet ingested complete line, and the state after ingesting them."""
        chunks: list[Path] = []
        state = dict(self.done)
        for path in self._files():
            try:
                st = path.stat()
                if self.seen.get(path.name) == (st.st_size, st.st_mtime_ns):
                    continue  # unchanged since it was last read
                stream = parse(path, _read(path))
            except (OSError, EOFError):  # a .gz still being written: next time
                continue
            if stream is None:
                continue
            self.seen[path.name] = (st.st_size, st.st_mtime_ns)
            have = state.get(stream.key, 0)
            if len(stream.lines) <= have:
                continue
            body = b"".join(stream.header) + b"".join(stream.lines[have:])
            digest = hashlib.sha256(body).hexdigest()[:20]
            stem = path.name.split(".")[0]
            ext = ".json" if not stream.header else ".log"
            chunk = self.spool / f"{stem}.{digest}{ext}"
            if not chunk.exists():
                tmp = chunk.with_name("." + chunk.name)
                tmp.write_bytes(body)
                tmp.replace(chunk)
            chunks.append(chunk)
            state[stream.key] = len(stream.lines)
        return chunks, state

    def poll(self) -> Batch | None:
        before = dict(self.seen)
        chunks, state = self.pending()
        if not chunks:
            return None
        try:
            summary = self.ingest(chunks)
        except BaseException:
            self.seen = before  # read these files again next time
            raise
        batch = Batch(self.name, rows=dict(getattr(summary, "rows", {}) or {}))
        for src in getattr(summary, "sources", []) or []:
            if getattr(src, "status", "") in ("failed", "unknown-format"):
                batch.notes.append(f"{src.name}: {src.status} {src.error or ''}".strip())
        self.done = state
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(self.done, indent=0, sort_keys=True))
        tmp.replace(self.state_path)
        for chunk in chunks:
            chunk.unlink(missing_ok=True)
        return batch

    def stop(self) -> None:
        pass
