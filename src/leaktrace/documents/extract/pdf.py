"""PDF via pypdf: page text (short page-top/bottom lines as header/footer), metadata incl. MSIP keys and
XMP, AcroForm fields (stamps such as 「機密性２情報」 read-only fields) and annotations."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from leaktrace.documents.extract.base import FIRST_LINES, Context
from leaktrace.documents.extract.ooxml import msip_labels_from_pairs
from leaktrace.documents.model import Extraction, Status, Zone

EDGE_LINES = 2
EDGE_MAX_CHARS = 40
_XMP_MSIP = re.compile(rb"(MSIP_Label_[0-9A-Fa-f-]{36}_\w+)\s*(?:=\s*\"|>)([^<\"]*)")


def _meta(reader: PdfReader, ex: Extraction) -> None:
    info: Any = reader.metadata or {}
    pairs: dict[str, str] = {}
    for key, value in info.items():
        k, v = str(key).lstrip("/"), str(value).strip()
        if not v:
            continue
        if k.startswith("MSIP_Label_"):
            pairs[k] = v
        elif k == "Title":
            ex.title = v
            ex.add(Zone.SUBJECT, v, "info:Title")
        elif k in ("Subject", "Keywords") or k not in ("Producer", "Creator", "CreationDate", "ModDate", "Author"):
            ex.add(Zone.PROPERTIES, v, f"info:{k}")
    try:
        root: Any = reader.trailer["/Root"].get_object()
        xmp = root.get("/Metadata")
        raw = xmp.get_object().get_data() if xmp is not None else b""
    except (PdfReadError, AttributeError, KeyError, ValueError):
        raw = b""
    for m in _XMP_MSIP.finditer(raw):
        pairs.setdefault(m.group(1).decode(), m.group(2).decode("utf-8", "replace"))
    ex.labels.extend(msip_labels_from_pairs(pairs, "pdf-metadata"))


def _pages(reader: PdfReader, ex: Extraction, ctx: Context) -> None:
    first_left = FIRST_LINES
    for i, page in enumerate(reader.pages):
        if i >= ctx.limits.max_pdf_pages:
            ex.reason = f"only the first {i} pages read"
            break
        where = f"page {i + 1}"
        lines = [ln for ln in (page.extract_text() or "").splitlines() if ln.strip()]
        top = 0
        while top < min(EDGE_LINES, len(lines)) and len(lines[top].strip()) <= EDGE_MAX_CHARS:
            top += 1
        bottom = len(lines)
        while bottom > top and len(lines) - bottom < EDGE_LINES and len(lines[bottom - 1].strip()) <= EDGE_MAX_CHARS:
            bottom -= 1
        if len(lines) <= 2 * EDGE_LINES:  # a short page: its edges are not page furniture
            top, bottom = min(top, 1), len(lines)
        ex.add(Zone.HEADER, "\n".join(lines[:top]), where)
        middle = lines[top:bottom]
        if first_left:
            ex.add(Zone.FIRST_LINES, "\n".join(middle[:first_left]), where)
            middle, first_left = middle[first_left:], max(0, first_left - len(middle))
        ex.add(Zone.BODY, "\n".join(middle), where)
        ex.add(Zone.FOOTER, "\n".join(lines[bottom:]), where)
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            contents = a.get("/Contents")
            if contents:
                ex.add(Zone.STAMP, str(contents), f"{where} annotation")


def _fields(reader: PdfReader, ex: Extraction) -> None:
    fields: dict[str, Any] = reader.get_fields() or {}
    for fname, field in fields.items():
        value = field.get("/V")
        if value is not None and str(value).strip():
            ex.add(Zone.STAMP, str(value), f"field {fname}")


def extract_pdf(data: bytes, name: str, ctx: Context) -> Extraction:
    ex = Extraction(format="pdf")
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                return Extraction("pdf", status=Status.ENCRYPTED, reason="PDF needs a password to open")
        except (DependencyError, NotImplementedError) as exc:
            return Extraction("pdf", status=Status.ENCRYPTED, reason=f"PDF encryption not readable: {exc}")
    try:
        _meta(reader, ex)
        _fields(reader, ex)
        _pages(reader, ex, ctx)
    except FileNotDecryptedError:
        return Extraction("pdf", status=Status.ENCRYPTED, reason="PDF needs a password to open")
    return ex
