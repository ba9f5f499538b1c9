"""Excel (.xlsx): cells (shared/inline strings), headers/footers, sheet names, comments, drawings, props."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from leaktrace.documents.extract.base import Context
from leaktrace.documents.extract.ooxml import RELS, add_properties, xml_part
from leaktrace.documents.model import Extraction, Zone

S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
A_T = "{http://schemas.openxmlformats.org/drawingml/2006/main}t"
_HF_CODES = re.compile(r'&"[^"]*"|&\d+|&[PNDTZFAGBISUEXYKH]|&[LCR]')
_COL = re.compile(r"^([A-Z]+)")
FIRST_ROWS = 5
MAX_COLS = 200


def header_footer_text(code: str) -> str:
    """``&L…&C機密性２&R&P`` → the visible text, one section per line."""
    text = re.sub(r"&[LCR]", "\n", code)
    return _HF_CODES.sub("", text).replace("&&", "&").strip()


def _col_index(ref: str | None) -> int | None:
    m = _COL.match(ref or "")
    if not m:
        return None
    n = 0
    for ch in m.group(1):
        n = n * 26 + ord(ch) - 64
    return n - 1


def _si_text(si: Any) -> str:
    return "".join(t.text or "" for t in si.iter(f"{S}t") if t.getparent().tag != f"{S}rPh")


def _rows(sheet: Any, shared: list[str]) -> list[str]:
    rows = []
    for row in sheet.iter(f"{S}row"):
        cells: list[str] = []
        for c in row.iter(f"{S}c"):
            kind = c.get("t")
            if kind == "inlineStr":
                is_ = c.find(f"{S}is")
                value = _si_text(is_) if is_ is not None else ""
            else:
                v = c.find(f"{S}v")
                value = v.text or "" if v is not None else ""
                if kind == "s" and value.isdigit():
                    idx = int(value)
                    value = shared[idx] if idx < len(shared) else ""
            col = _col_index(c.get("r"))
            if col is not None and len(cells) < col <= MAX_COLS:
                cells.extend([""] * (col - len(cells)))
            cells.append(value.replace("\t", " ").replace("\n", " "))
        if any(x.strip() for x in cells):
            rows.append("\t".join(cells).rstrip("\t"))
    return rows


def extract_xlsx(data: bytes, name: str, ctx: Context) -> Extraction:
    ex = Extraction(format="xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        add_properties(zf, ex, ctx)
        sst = xml_part(zf, "xl/sharedStrings.xml", ctx)
        shared = [_si_text(si) for si in sst.iter(f"{S}si")] if sst is not None else []
        wb = xml_part(zf, "xl/workbook.xml", ctx)
        rels = xml_part(zf, "xl/_rels/workbook.xml.rels", ctx)
        targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{RELS}Relationship")} if rels is not None else {}
        sheets = list(wb.iter(f"{S}sheet")) if wb is not None else []
        for i, sh in enumerate(sheets):
            sname = sh.get("name") or f"sheet{i + 1}"
            ex.add(Zone.PROPERTIES, sname, "sheet-name")
            target = str(targets.get(sh.get(R_ID), "") or "")
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            root = xml_part(zf, part, ctx) if target else None
            if root is None:
                continue
            for hf in root.iter(f"{S}headerFooter"):
                for el in hf:
                    zone = Zone.HEADER if "Header" in str(el.tag) else Zone.FOOTER
                    ex.add(zone, header_footer_text(el.text or ""), f"{sname}:{el.tag.rsplit('}', 1)[-1]}")
            rows = _rows(root, shared)
            head = FIRST_ROWS if i == 0 else 0
            ex.add(Zone.FIRST_LINES, "\n".join(rows[:head]), sname, tabular=True)
            ex.add(Zone.BODY, "\n".join(rows[head:]), sname, tabular=True)
        for part in sorted(zf.namelist()):
            if part.startswith("xl/comments") and part.endswith(".xml"):
                root = xml_part(zf, part, ctx)
                if root is not None:
                    ex.add(Zone.BODY, "\n".join(_si_text(t) for t in root.iter(f"{S}text")), part)
            elif part.startswith("xl/drawings/drawing") and part.endswith(".xml"):
                root = xml_part(zf, part, ctx)
                if root is not None:
                    ex.add(Zone.STAMP, "".join(t.text or "" for t in root.iter(A_T)), part)
    return ex
