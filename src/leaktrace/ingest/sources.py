"""Expand what the user named (files, folders, .gz, .zip) into sources: one readable file each.

A source is identified by the SHA-256 of its (decompressed) bytes, so a file ingested twice, under any name or
inside any archive, is recognised. Compressed sources are decompressed into the workspace's tmp folder while
they are hashed; the temporary copy is removed when the source is closed.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from leaktrace.errors import IngestError, Location

_CHUNK = 1 << 22
SKIP_NAMES = {".DS_Store", "Thumbs.db"}


@dataclass
class Source:
    """One file to ingest: ``name`` is what the user sees (``a.zip!/conn.log``), ``path`` is readable."""

    name: str
    path: Path
    sha256: str
    size: int
    temporary: bool = False

    def close(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _copy_hashing(src: object, dst: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with dst.open("wb") as out:
        while chunk := src.read(_CHUNK):  # type: ignore[attr-defined]
            h.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _tmp_path(tmp_dir: Path, name: str) -> Path:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[-120:]
    n = 0
    while (p := tmp_dir / f"{n}-{safe}").exists():
        n += 1
    return p


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _from_gzip(path: Path, name: str, tmp_dir: Path) -> Source:
    dst = _tmp_path(tmp_dir, name.removesuffix(".gz"))
    try:
        with gzip.open(path, "rb") as src:
            digest, size = _copy_hashing(src, dst)
    except (OSError, EOFError) as exc:
        dst.unlink(missing_ok=True)
        raise IngestError(f"cannot decompress: {exc}", Location(path=name)) from None
    return Source(name.removesuffix(".gz"), dst, digest, size, temporary=True)


def _from_zip(path: Path, name: str, tmp_dir: Path) -> Iterator[Source]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise IngestError(f"not a readable zip archive: {exc}", Location(path=name)) from None
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir() or Path(info.filename).name in SKIP_NAMES or "__MACOSX" in info.filename:
                continue
            member_name = f"{name}!/{info.filename}"
            dst = _tmp_path(tmp_dir, Path(info.filename).name)
            try:
                with archive.open(info) as src:
                    digest, size = _copy_hashing(src, dst)
            except (RuntimeError, zipfile.BadZipFile, OSError) as exc:  # encrypted or corrupt member
                dst.unlink(missing_ok=True)
                raise IngestError(f"cannot read member: {exc}", Location(path=member_name)) from None
            if member_name.endswith(".gz") or _is_gzip(dst):
                try:
                    yield _from_gzip(dst, member_name, tmp_dir)
                finally:
                    dst.unlink(missing_ok=True)
            else:
                yield Source(member_name, dst, digest, size, temporary=True)


def expand(paths: list[Path], tmp_dir: Path) -> Iterator[Source | IngestError]:
    """Yield every source under ``paths`` in a stable order; unreadable ones are yielded as errors."""
    for root in paths:
        if not root.exists():
            yield IngestError("no such file or folder", Location(path=str(root)))
            continue
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.name in SKIP_NAMES or path.name.startswith("."):
                continue
            name = str(path)
            try:
                if path.suffix.lower() == ".zip":
                    yield from _from_zip(path, name, tmp_dir)
                elif path.suffix.lower() == ".gz" or _is_gzip(path):
                    yield _from_gzip(path, name, tmp_dir)
                else:
                    yield Source(name, path, _hash_file(path), path.stat().st_size)
            except IngestError as exc:
                yield exc
            except OSError as exc:
                yield IngestError(f"cannot read: {exc}", Location(path=name))


def remove_tmp(tmp_dir: Path) -> None:
    shutil.rmtree(tmp_dir, ignore_errors=True)
