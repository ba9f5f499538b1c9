"""Extractors, one module per format, in a registry keyed by format name; ``extract`` picks one.

Detection looks at the content first (ZIP/OLE/PDF/gzip magic, OOXML content types, OLE stream names) and at
the file extension second, so a renamed file is still read. Formats that cannot be read come back as an
``Extraction`` with status ``unsupported`` / ``encrypted`` and a reason — never silently dropped.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable

from lxml import etree
from pypdf.errors import PdfReadError, PdfStreamError

from leaktrace.documents.extract.archive import extract_tar, extract_zip
from leaktrace.documents.extract.base import Context, Extractor, LimitExceeded, Limits
from leaktrace.documents.extract.docx import extract_docx
from leaktrace.documents.extract.mail import extract_eml, extract_msg
from leaktrace.documents.extract.pdf import extract_pdf
from leaktrace.documents.extract.pptx import extract_pptx
from leaktrace.documents.extract.text import extract_html, extract_text, looks_like_text
from leaktrace.documents.extract.xlsx import extract_xlsx
from leaktrace.documents.model import Extraction, Status
from leaktrace.registry import Registry

__all__ = ["Context", "Extractor", "LimitExceeded", "Limits", "detect_format", "extract", "extractors"]

extractors: Registry[Extractor] = Registry("document extractor")
for _name, _fn in (
    ("docx", extract_docx), ("xlsx", extract_xlsx), ("pptx", extract_pptx), ("pdf", extract_pdf),
    ("eml", extract_eml), ("msg", extract_msg), ("text", extract_text), ("html", extract_html),
    ("zip", extract_zip), ("tar", extract_tar),
):
    extractors.add(_name, _fn)

EXTENSIONS = {
    "docx": "docx", "docm": "docx", "dotx": "docx", "xlsx": "xlsx", "xlsm": "xlsx", "pptx": "pptx",
    "pptm": "pptx", "pdf": "pdf", "eml": "eml", "msg": "msg", "txt": "text", "csv": "text", "tsv": "text",
    "log": "text", "md": "text", "json": "text", "xml": "text", "html": "html", "htm": "html", "zip": "zip",
    "tar": "tar", "tgz": "tar", "gz": "tar", "bz2": "tar", "xz": "tar", "tbz2": "tar", "txz": "tar",
}
UNSUPPORTED = {
    "jtd": "一太郎 document (.jtd): no open-source reader; convert on a host with JustSystems software",
    "jtt": "一太郎 template (.jtt): no open-source reader",
    "jtdc": "一太郎 compressed document (.jtdc): no open-source reader",
    "jttc": "一太郎 compressed template (.jttc): no open-source reader",
    "jaw": "old 一太郎 document: no open-source reader", "jbw": "old 一太郎 document: no open-source reader",
    "jfw": "old 一太郎 document: no open-source reader", "jsw": "old 一太郎 document: no open-source reader",
    "juw": "old 一太郎 document: no open-source reader", "jvw": "old 一太郎 document: no open-source reader",
    "xdw": "DocuWorks document (.xdw): no open-source reader", "xbd": "DocuWorks binder (.xbd): no open-source reader",
    "doc": "legacy binary Word (.doc): not supported, convert to .docx",
    "xls": "legacy binary Excel (.xls): not supported, convert to .xlsx",
    "ppt": "legacy binary PowerPoint (.ppt): not supported, convert to .pptx",
    "7z": "7-Zip archive: not supported", "rar": "RAR archive: not supported", "lzh": "LZH archive: not supported",
}
IMAGES = ((b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF8", "gif"), (b"II*\x00", "tiff"),
          (b"MM\x00*", "tiff"), (b"BM", "bmp"))
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML_MAIN = (("word/document.xml", "docx"), ("xl/workbook.xml", "xlsx"), ("ppt/presentation.xml", "pptx"))


def _ext(name: str) -> str:
    base = name.rsplit("/", 1)[-1].lower()
    if base.endswith((".tar.gz", ".tar.bz2", ".tar.xz")):
        return "tar"
    return base.rsplit(".", 1)[-1] if "." in base else ""


def _ole_kind(data: bytes, ext: str) -> tuple[str, str | None]:
    """(format, reason) of an OLE2 compound file."""
    try:
        import olefile
    except ImportError:
        if ext in UNSUPPORTED:
            return ext, UNSUPPORTED[ext]
        return "ole", "OLE2 compound file (install 'olefile' to identify it)"
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            names = {"/".join(e) for e in ole.listdir(streams=True, storages=True)}
    except Exception as exc:  # olefile raises many kinds on malformed input
        if ext in UNSUPPORTED:
            return ext, UNSUPPORTED[ext]
        return "ole", f"unreadable OLE2 compound file: {type(exc).__name__}"
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        return "encrypted-office", "password-protected (or IRM/RMS-protected) Office document"
    if any(n.startswith("__substg1.0_") for n in names):
        return "msg", None
    if ext in UNSUPPORTED:
        return ext, UNSUPPORTED[ext]
    for stream, fmt in (("WordDocument", "doc"), ("Workbook", "xls"), ("Book", "xls"), ("PowerPoint Document", "ppt")):
        if stream in names:
            return fmt, UNSUPPORTED[fmt]
    return "ole", "unknown OLE2 compound file"


def detect_format(data: bytes, name: str) -> tuple[str, str | None]:
    """(format, reason-if-unreadable). A format with a registered extractor has reason None."""
    ext = _ext(name)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            return "zip", None
        for part, fmt in _OOXML_MAIN:
            if part in names:
                return fmt, None
        if ext in ("jtdc", "jttc"):
            return ext, UNSUPPORTED[ext]
        return "zip", None
    if data.startswith(OLE_MAGIC):
        return _ole_kind(data, ext)
    if data.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return "pdf", None
    if data[:2] == b"\x1f\x8b" or data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00" or data[257:262] == b"ustar":
        return "tar", None
    for magic, kind in IMAGES:
        if data.startswith(magic):
            return kind, f"{kind.upper()} image: text in images needs OCR (not supported)"
    if ext in UNSUPPORTED:
        return ext, UNSUPPORTED[ext]
    if ext in EXTENSIONS and EXTENSIONS[ext] in ("eml", "text", "html"):
        return EXTENSIONS[ext], None
    if looks_like_text(data):
        head = data[:2048].lower()
        if b"<html" in head or b"<!doctype html" in head:
            return "html", None
        if head.startswith((b"received:", b"from:", b"return-path:", b"message-id:", b"mime-version:")):
            return "eml", None
        return "text", None
    return ext or "binary", f"unknown binary format (first bytes {data[:4].hex()})"


_READ_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, etree.XMLSyntaxError, PdfReadError, PdfStreamError, ValueError, KeyError, IndexError,
    EOFError, OSError, UnicodeError, zlib.error, AttributeError, TypeError, RecursionError,
)


def extract(data: bytes, name: str, ctx: Context | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> Extraction:
    """Extract one file's text. Never raises for bad input: broken files come back with status ``error``."""
    ctx = ctx or Context()
    fmt = "binary"
    try:
        fmt, reason = detect_format(data, name)
        if reason is not None:
            status = Status.ENCRYPTED if fmt == "encrypted-office" else Status.UNSUPPORTED
            return Extraction(format=fmt, status=status, reason=reason)
        return extractors.get(fmt)(data, name, ctx)
    except LimitExceeded as exc:
        return Extraction(format=fmt, status=Status.REFUSED, reason=f"limit exceeded: {exc}")
    except RuntimeError as exc:  # zipfile: encrypted member of an OOXML package, pypdf internals
        return Extraction(format=fmt, status=Status.ERROR, reason=f"{type(exc).__name__}: {exc}"[:300])
    except _READ_ERRORS as exc:
        if on_error is not None:
            on_error(exc)
        return Extraction(format=fmt, status=Status.ERROR, reason=f"cannot read {fmt}: {type(exc).__name__}: {exc}"[:300])
    except Exception as exc:  # a parser bug on one hostile file must not stop a scan of thousands
        if on_error is not None:
            on_error(exc)
        return Extraction(format=fmt, status=Status.ERROR, reason=f"extractor failed: {type(exc).__name__}")
