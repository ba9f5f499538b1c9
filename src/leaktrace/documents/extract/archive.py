"""Archives: zip, tar, tar.gz/tgz/tar.bz2/tar.xz, and single .gz files — bomb-safe.

Before reading anything, a zip's central directory is checked against the budget (member count, declared
sizes, compression ratio); every read is then capped, because declared sizes can lie. Compressed tar streams
are decompressed through a counting reader that stops at the byte budget. A container that breaks a limit is
refused as a whole (listed with the reason); nesting depth is enforced by the scanner.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from typing import IO, Any

from leaktrace.documents.extract.base import Context, LimitExceeded, MiB
from leaktrace.documents.model import Extraction, Member, Status


class _CountingReader(io.RawIOBase):
    """Wraps a decompressing stream; raises LimitExceeded after ``limit`` bytes."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self.inner, self.limit, self.count = inner, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.inner.read(len(b))
        self.count += len(data)
        if self.count > self.limit:
            raise LimitExceeded(f"more than {self.limit} bytes uncompressed")
        b[: len(data)] = data
        return len(data)


def _take(ctx: Context, size: int, name: str) -> None:
    left = ctx.left
    if left.members_left <= 0:
        raise LimitExceeded(f"more than {ctx.limits.max_members} members")
    if size > ctx.limits.max_member_bytes:
        raise LimitExceeded(f"member {name!r} is {size} bytes (limit {ctx.limits.max_member_bytes})")
    if size > left.bytes_left:
        raise LimitExceeded(f"more than {ctx.limits.max_total_bytes} bytes uncompressed in total")
    left.members_left -= 1
    left.bytes_left -= size


def extract_zip(data: bytes, name: str, ctx: Context) -> Extraction:
    ex = Extraction(format="zip")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > ctx.left.members_left:
            raise LimitExceeded(f"{len(infos)} members (limit {ctx.limits.max_members})")
        declared = sum(i.file_size for i in infos)
        if declared > ctx.left.bytes_left:
            raise LimitExceeded(f"{declared} bytes declared uncompressed (limit {ctx.limits.max_total_bytes})")
        for i in infos:
            ratio = i.file_size / max(1, i.compress_size)
            if i.file_size > MiB and ratio > ctx.limits.max_ratio:
                raise LimitExceeded(f"member {i.filename!r} compresses {ratio:.0f}:1 (limit {ctx.limits.max_ratio:.0f}:1)")
        for i in infos:
            if i.flag_bits & 0x1:
                _take(ctx, 0, i.filename)
                ex.members.append(Member(i.filename, b"", Status.ENCRYPTED, "encrypted zip member (password)"))
                continue
            _take(ctx, i.file_size, i.filename)
            with zf.open(i) as f:
                payload = f.read(i.file_size + 1)
            if len(payload) > i.file_size:
                raise LimitExceeded(f"member {i.filename!r} is larger than declared")
            ex.members.append(Member(i.filename, payload))
    return ex


def _decompressor(data: bytes) -> Any:
    raw = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw)
    if data[:3] == b"BZh":
        return bz2.BZ2File(raw)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw)
    return raw


def extract_tar(data: bytes, name: str, ctx: Context) -> Extraction:
    ex = Extraction(format="tar")
    compressed = data[:2] == b"\x1f\x8b" or data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00"
    stream = _CountingReader(_decompressor(data), ctx.left.bytes_left + 64 * 1024)
    buffered = io.BufferedReader(stream, 1024 * 1024)
    head = buffered.peek(512)[:512]
    if compressed and not (len(head) >= 262 and head[257:262] == b"ustar"):  # a single .gz / .bz2 / .xz file
        ex.format = "gzip"
        inner = name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "content"
        payload = buffered.read(ctx.limits.max_member_bytes + 1)
        _take(ctx, len(payload), inner)
        ex.members.append(Member(inner, payload))
        return ex
    with tarfile.open(fileobj=buffered, mode="r|") as tf:
        for m in tf:
            if not m.isfile():
                continue
            _take(ctx, m.size, m.name)
            f = tf.extractfile(m)
            ex.members.append(Member(m.name, f.read(m.size) if f is not None else b""))
    return ex
