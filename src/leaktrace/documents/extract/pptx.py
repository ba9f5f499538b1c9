"""PowerPoint (.pptx): slides (shapes, tables), notes, masters/layouts (footers, fixed text), properties.

Zones: footer/header placeholders → footer/header; short free text boxes (≤ 3 lines, ≤ 60 characters) →
stamp (the "機密性２" box in a slide corner); text of slide 1 → first lines; fixed text on masters/layouts →
header (it repeats on every slide); everything else → body.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from leaktrace.documents.extract.base import Context, add_lines
from leaktrace.documents.extract.ooxml import add_properties, xml_part
from leaktrace.documents.model import Extraction, Zone

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_SLIDE = re.compile(r"^ppt/(slides|notesSlides|slideMasters|slideLayouts)/\w+?(\d+)\.xml$")
_SKIP_PH = {"sldNum", "dt"}


def _para_lines(el: Any) -> list[str]:
    return ["".join(t.text or "" for t in p.iter(f"{A}t")) for p in el.iter(f"{A}p")]


def _shapes(root: Any) -> list[tuple[str | None, list[str]]]:
    """(placeholder type or None for free shapes, text lines) for each shape with text."""
    out = []
    for sp in root.iter(f"{P}sp", f"{P}graphicFrame"):
        ph = sp.find(f"{P}nvSpPr/{P}nvPr/{P}ph")
        ph_type = None if ph is None else (ph.get("type") or "body")
        lines = [ln for ln in _para_lines(sp) if ln.strip()]
        if lines:
            out.append((ph_type if sp.tag == f"{P}sp" else "table", lines))
    return out


def _order(name: str) -> tuple[int, int]:
    m = _SLIDE.match(name)
    kinds = {"slides": 0, "notesSlides": 1, "slideMasters": 2, "slideLayouts": 3}
    return (kinds[m.group(1)], int(m.group(2))) if m else (9, 0)


def extract_pptx(data: bytes, name: str, ctx: Context) -> Extraction:
    ex = Extraction(format="pptx")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        add_properties(zf, ex, ctx)
        first_slide = True
        for part in sorted((n for n in zf.namelist() if _SLIDE.match(n)), key=_order):
            kind = _SLIDE.match(part).group(1)  # type: ignore[union-attr]
            root = xml_part(zf, part, ctx)
            if root is None:
                continue
            body: list[str] = []
            for ph, lines in _shapes(root):
                text = "\n".join(lines)
                if ph in _SKIP_PH:
                    continue
                if ph in ("ftr", "hdr"):
                    ex.add(Zone.FOOTER if ph == "ftr" else Zone.HEADER, text, part)
                elif kind in ("slideMasters", "slideLayouts"):
                    if ph is None:
                        ex.add(Zone.HEADER, text, part)
                elif ph is None and kind == "slides" and len(lines) <= 3 and len(text) <= 60:
                    ex.add(Zone.STAMP, text, part)
                else:
                    body.extend(lines)
            if kind == "slides" and first_slide:
                add_lines(ex, body, part)
                first_slide = False
            else:
                ex.add(Zone.BODY, "\n".join(body), part)
    return ex
