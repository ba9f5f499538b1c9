"""Share documents open with their libraries and carry their markings."""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from pathlib import Path

import pytest
from docx import Document as Docx
from openpyxl import load_workbook
from pptx import Presentation
from pypdf import PdfReader

from leaktrace.sim import SimulationResult
from leaktrace.sim.pii import is_valid_my_number, my_number_check_digit


def text_of(path: Path) -> str:
    kind = path.suffix[1:]
    parts: list[str] = [path.name]
    if kind == "docx":
        d = Docx(str(path))
        for s in d.sections:
            parts += [p.text for p in s.header.paragraphs] + [p.text for p in s.footer.paragraphs]
        parts += [p.text for p in d.paragraphs]
        parts += [c.text for t in d.tables for row in t.rows for c in row.cells]
        with zipfile.ZipFile(path) as zf:  # text boxes and custom properties
            parts.append(zf.read("word/document.xml").decode())
            if "docProps/custom.xml" in zf.namelist():
                parts.append(zf.read("docProps/custom.xml").decode())
    elif kind == "xlsx":
        wb = load_workbook(path)
        for ws in wb.worksheets:
            parts += [str(ws.oddHeader.right.text), str(ws.oddFooter.center.text)]
            parts += [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
        parts += [f"{p.name}={p.value}" for p in wb.custom_doc_props]
    elif kind == "pptx":
        prs = Presentation(str(path))
        parts += [sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame]
        with zipfile.ZipFile(path) as zf:
            if "docProps/custom.xml" in zf.namelist():
                parts.append(zf.read("docProps/custom.xml").decode())
    elif kind == "pdf":
        reader = PdfReader(str(path))
        parts += [page.extract_text() for page in reader.pages]
        parts += [str(f.get("/V")) for f in (reader.get_fields() or {}).values()]
    else:
        parts.append(path.read_text(encoding="utf-8-sig"))
    return unicodedata.normalize("NFKC", "\n".join(parts))


@pytest.fixture(scope="module")
def manifest(small_sim: SimulationResult) -> list[dict[str, object]]:
    return json.loads((small_sim.out / "documents.json").read_text(encoding="utf-8"))


def test_every_document_opens_and_shows_its_marking(
    small_sim: SimulationResult, manifest: list[dict[str, object]]
) -> None:
    kinds = set()
    for doc in manifest:
        path = small_sim.out / "share" / str(doc["path"])
        text = text_of(path)
        kinds.add(path.suffix)
        if doc["level"]:
            level = int(str(doc["level"]))
            if doc["msip_label"]:
                assert (
                    re.search(rf"MSIP_Label_[0-9a-f-]+_Name[^\n]*機密性{level}", text)
                    or f"機密性{level}" in text
                )
            else:
                assert re.search(rf"機密性{level}", text), (doc["path"], doc["marking_channels"])
            visible = set(doc["marking_channels"]) - {"msip", "filename"}  # type: ignore[arg-type]
            if doc["restriction"] and visible:
                assert str(doc["restriction"]) in text
    assert {".docx", ".xlsx", ".pptx", ".pdf"} <= kinds


def test_markings_use_full_width_digits(
    small_sim: SimulationResult, manifest: list[dict[str, object]]
) -> None:
    named = [d for d in manifest if "filename" in d["marking_channels"]]  # type: ignore[operator]
    assert named
    assert all(re.search("【機密性[１２３]】", str(d["path"])) for d in named)


def test_pii_documents_hold_valid_my_numbers(
    small_sim: SimulationResult, manifest: list[dict[str, object]]
) -> None:
    pii = [d for d in manifest if d["pii_people"]]
    assert pii
    for doc in pii:
        text = text_of(small_sim.out / "share" / str(doc["path"]))
        numbers = re.findall(r"(?<![0-9])[0-9]{12}(?![0-9])", text)
        assert len(numbers) >= int(str(doc["pii_people"]))
        assert all(is_valid_my_number(n) for n in numbers)


def test_my_number_check_digit_vectors() -> None:
    for number in ("123456789018", "111111111118", "000111111111", "465281266333"):
        assert is_valid_my_number(number)
        assert my_number_check_digit(number[:11]) == int(number[-1])
    assert not is_valid_my_number("123456789012")
