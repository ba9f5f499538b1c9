"""Sniff a MIME type from the first bytes of a file (the common document, archive and executable formats)."""

from __future__ import annotations

_MAGIC: list[tuple[bytes, int, str]] = [
    (b"%PDF-", 0, "application/pdf"),
    (b"MZ", 0, "application/x-dosexec"),
    (b"\x7fELF", 0, "application/x-executable"),
    (b"Rar!\x1a\x07", 0, "application/x-rar"),
    (b"7z\xbc\xaf\x27\x1c", 0, "application/x-7z-compressed"),
    (b"\x1f\x8b", 0, "application/gzip"),
    (b"BZh", 0, "application/x-bzip2"),
    (b"\xfd7zXZ\x00", 0, "application/x-xz"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "application/x-ole-storage"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"{\\rtf", 0, "text/rtf"),
    (b"ustar", 257, "application/x-tar"),
    (b"SQLite format 3\x00", 0, "application/x-sqlite3"),
    (b"MDMP", 0, "application/x-dmp"),
    (b"PMDM", 0, "application/x-dmp"),
]


def sniff_mime(head: bytes) -> str | None:
    """The MIME type of a file starting with ``head`` (a few hundred bytes are enough), or None."""
    if not head:
        return None
    if head.startswith(b"PK\x03\x04"):
        window = head[:4096]
        if b"word/" in window:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if b"xl/" in window:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if b"ppt/" in window:
            return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        return "application/zip"
    for magic, offset, mime in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return mime
    start = head[:512].lstrip()
    low = start[:64].lower()
    if low.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if low.startswith(b"<?xml"):
        return "application/xml"
    if start[:1] in (b"{", b"[") and b"\x00" not in start:
        return "application/json"
    try:
        head[:512].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"
