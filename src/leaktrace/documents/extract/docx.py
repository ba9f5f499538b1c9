"""Word (.docx): body, headers, footers, footnotes, comments, text boxes / stamps, watermarks, properties."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from leaktrace.documents.extract.base import Context, add_lines
from leaktrace.documents.extract.ooxml import add_properties, xml_part
from leaktrace.documents.model import Extraction, Zone

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
V_TEXTPATH = "{urn:schemas-microsoft-com:vml}textpath"
_PART = re.compile(r"^word/(header|footer|footnotes|endnotes|comments)\d*\.xml$")


def paragraph_text(p: Any) -> str:
    out = []
    for el in p.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr"):
        if el.tag == f"{W}t":
            out.append(el.text or "")
        else:
            out.append("\t" if el.tag == f"{W}tab" else "\n")
    return "".join(out)


def split_part(root: Any) -> tuple[list[str], list[str]]:
    """(paragraph lines outside text boxes, stamp lines: text boxes and VML watermarks)."""
    stamps: list[str] = []
    for tp in root.iter(V_TEXTPATH):
        s = tp.get("string")
        if s and s not in stamps:
            stamps.append(s)
    for fb in list(root.iter(MC_FALLBACK)):  # VML duplicates of DrawingML shapes
        fb.getparent().remove(fb)
    for box in list(root.iter(f"{W}txbxContent")):
        text = "\n".join(paragraph_text(p) for p in box.iter(f"{W}p"))
        if text.strip():
            stamps.append(text)
        box.getparent().remove(box)
    lines = [paragraph_text(p) for p in root.iter(f"{W}p")]
    return lines, stamps


def extract_docx(data: bytes, name: str, ctx: Context) -> Extraction:
    ex = Extraction(format="docx")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        add_properties(zf, ex, ctx)
        body = xml_part(zf, "word/document.xml", ctx)
        if body is not None:
            lines, stamps = split_part(body)
            for s in stamps:
                ex.add(Zone.STAMP, s, "word/document.xml")
            add_lines(ex, lines, "word/document.xml")
        for part in sorted(n for n in zf.namelist() if _PART.match(n)):
            root = xml_part(zf, part, ctx)
            if root is None:
                continue
            lines, stamps = split_part(root)
            kind = _PART.match(part).group(1)  # type: ignore[union-attr]
            zone = {"header": Zone.HEADER, "footer": Zone.FOOTER}.get(kind, Zone.BODY)
            ex.add(zone, "\n".join(ln for ln in lines if ln.strip()), part)
            for s in stamps:
                ex.add(Zone.STAMP, s, part)
    return ex
