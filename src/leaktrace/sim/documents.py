"""The file share: real docx/xlsx/pptx/pdf/txt/csv files with government markings in varied places.

Every file is byte-for-byte deterministic per seed (OOXML zips are rewritten with fixed timestamps, PDFs are
written in reportlab's invariant mode), so ground-truth hashes are stable.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from leaktrace.sim import textgen
from leaktrace.sim.config import SimulationConfig
from leaktrace.sim.pii import person

LEVEL_TEXT = {1: "機密性１", 2: "機密性２", 3: "機密性３"}
RESTRICTIONS = ["複製禁止", "配付禁止", "関係者限り", "持出禁止", "転送禁止"]
MSIP_SITE_ID = "3f1c2b7e-8d4a-4e0b-9a51-6c2d8e7f1a90"
MSIP_LABELS = {  # level → (label GUID, label name)
    1: ("0e7a1c52-3b8d-4f6e-a1d2-5c9b8e7f6a01", "機密性1"),
    2: ("5b2d9e14-7c3a-4a8f-b6e1-2d4c6f8a9b02", "機密性2"),
    3: ("9c4f7a36-1e5b-4d2c-8f3a-7b1e9d5c4a03", "機密性3"),
}
_FIXED_ZIP_TIME = (2026, 2, 2, 9, 0, 0)


@dataclass
class Document:
    """One file on the share and the truth about it."""

    path: str  # share-relative, POSIX separators
    kind: str
    lang: str
    level: int | None  # 1..3, None = unmarked
    restriction: str | None
    channels: list[str]
    pii_people: int = 0
    has_my_number: bool = False
    size: int = 0
    sha256: str = ""
    title: str = ""
    dept: int = 0
    msip_label: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def level_text(self) -> str | None:
        return LEVEL_TEXT[self.level] if self.level else None

    def truth(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra")
        d["marking_channels"] = d.pop("channels")
        d["level_text"] = self.level_text
        return d


def marking(doc: Document) -> str:
    if not doc.level:
        return ""
    text = LEVEL_TEXT[doc.level] + "情報" * (doc.dept % 2)
    return f"{text}・{doc.restriction}" if doc.restriction else text


def _plan(cfg: SimulationConfig, rng: np.random.Generator) -> list[Document]:
    kinds = np.array(["docx", "xlsx", "pptx", "pdf", "txt", "csv"])
    kind_p = np.array([0.34, 0.22, 0.14, 0.18, 0.07, 0.05])
    docs: list[Document] = []
    used: set[str] = set()
    for i in range(cfg.n_documents):
        kind = str(kinds[rng.choice(len(kinds), p=kind_p)])
        lang = "en" if rng.random() < 0.18 else "ja"
        level_draw = rng.random()
        level = 1 if level_draw < 0.32 else 2 if level_draw < 0.72 else 3 if level_draw < 0.84 else None
        restriction = None
        if level and level >= 2 and rng.random() < 0.35:
            restriction = RESTRICTIONS[int(rng.integers(len(RESTRICTIONS)))]
        pii = 0
        title = textgen.title(rng, lang)
        if kind in ("xlsx", "csv", "docx") and rng.random() < 0.22:
            pii = int(
                rng.choice(
                    [int(rng.integers(3, 30)), int(rng.integers(30, 100)), int(rng.integers(101, 180))]
                )
            )
            title = (
                ["職員名簿", "セミナー 申込者一覧", "意見交換会 出席者連絡先", "委員 名簿"][i % 4]
                if lang == "ja"
                else "Participant contact list"
            )
        channels = _channels(kind, rng) if level else []
        dept = int(rng.integers(len(cfg.share_dirs)))
        stamp = (date(2025, 4, 1) + timedelta(days=int(rng.integers(0, 330)))).strftime("%Y%m%d")
        name = f"{title}_{stamp}".replace(" ", "_")
        if "filename" in channels and level:
            name = f"【{LEVEL_TEXT[level]}】{name}"
        sub = ["", "2025年度/", "会議資料/", "報告/"][int(rng.integers(4))]
        path = f"{cfg.share_dirs[dept]}/{sub}{name}.{kind}"
        while path in used:
            path = path.replace(f".{kind}", f"_{int(rng.integers(2, 99))}.{kind}", 1)
        used.add(path)
        doc = Document(path, kind, lang, level, restriction, channels, pii, pii > 0, title=title, dept=dept)
        if "msip" in channels and level:
            doc.msip_label = MSIP_LABELS[level][1]
        # some documents carry scanned pages/photos (incompressible), which is what makes leaks MB-sized
        if kind in ("docx", "pptx", "pdf"):
            draw = rng.random()
            if draw < 0.06:  # a scanned report or photo-heavy deck: several MB
                doc.extra["image_bytes"] = int(rng.uniform(3e6, 12e6))
            elif draw < 0.5:
                doc.extra["image_bytes"] = int(rng.lognormal(np.log(600_000), 0.8))
        docs.append(doc)
    return docs


def _channels(kind: str, rng: np.random.Generator) -> list[str]:
    options = {
        "docx": ["header", "footer", "first_line", "stamp", "filename", "msip"],
        "xlsx": ["header", "footer", "first_line", "filename", "msip"],
        "pptx": ["stamp", "first_line", "footer", "filename", "msip"],
        "pdf": ["header", "footer", "first_line", "stamp", "filename"],
        "txt": ["first_line", "filename"],
        "csv": ["first_line", "filename"],
    }[kind]
    k = 1 + int(rng.random() < 0.5)
    picked = rng.choice(len(options), size=k, replace=False)
    return sorted(options[int(j)] for j in picked)


def _image(rng: np.random.Generator, nbytes: int, thumbnail: bool = False) -> bytes:
    """A scan-like greyscale JPEG of about ``nbytes`` (or a tiny one of the same shape)."""
    from PIL import Image

    if thumbnail:
        buf = io.BytesIO()
        Image.new("L", (48, 64), 200).save(buf, "JPEG", quality=85)
        return buf.getvalue()
    px = max(nbytes / 0.52, 40_000)
    w = int(np.sqrt(px * 0.75))
    h = int(px / w)
    # a noise tile repeated to size: JPEG does not exploit the repetition, so the file stays incompressible
    tile = rng.normal(200, 40, (512, 512)).clip(0, 255).astype(np.uint8)
    arr = np.ascontiguousarray(np.tile(tile, (h // 512 + 1, w // 512 + 1))[:h, :w])
    buf = io.BytesIO()
    Image.fromarray(arr, "L").save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _people(rng: np.random.Generator, n: int) -> list[dict[str, str]]:
    return [person(rng) for _ in range(n)]


PEOPLE_HEADER = ["氏名", "郵便番号", "住所", "電話番号", "個人番号"]


def _row(p: dict[str, str]) -> list[str]:
    return [p["name"], p["postal"], p["address"], p["phone"], p["my_number"]]


def _custom_xml(level: int) -> str:
    guid, name = MSIP_LABELS[level]
    fmt = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
    props = [
        ("Enabled", "true"),
        ("SetDate", "2026-02-02T09:00:00Z"),
        ("Method", "Privileged"),
        ("Name", name),
        ("SiteId", MSIP_SITE_ID),
        ("ContentBits", "0"),
    ]
    body = "".join(
        f'<property fmtid="{fmt}" pid="{i + 2}" name="MSIP_Label_{guid}_{k}"><vt:lpwstr>{v}</vt:lpwstr></property>'
        for i, (k, v) in enumerate(props)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        + body
        + "</Properties>"
    )


def normalise_ooxml(data: bytes, custom_xml: str | None = None, media: bytes | None = None) -> bytes:
    """Rewrite an OOXML zip with fixed timestamps (deterministic bytes), optionally adding custom properties
    and swapping the (single) embedded JPEG for ``media``, which is stored rather than deflated."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        for name in names:
            blob = src.read(name)
            if name == "docProps/core.xml":  # some writers stamp the save time here
                blob = re.sub(
                    rb"(<dcterms:(?:modified|created)[^>]*>)[^<]*(<)", rb"\g<1>2026-02-02T09:00:00Z\2", blob
                )
            if custom_xml is not None and name == "[Content_Types].xml":
                blob = blob.replace(
                    b"</Types>",
                    b'<Override PartName="/docProps/custom.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
                )
            if custom_xml is not None and name == "_rels/.rels":
                blob = blob.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdMsip" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>',
                )
            info = zipfile.ZipInfo(name, _FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if "/media/" in name and name.endswith((".jpeg", ".jpg")):
                info.compress_type = (
                    zipfile.ZIP_STORED
                )  # JPEG does not deflate; Office stores it this way too
                blob = media if media is not None else blob
            dst.writestr(info, blob)
        if custom_xml is not None and "docProps/custom.xml" not in names:
            info = zipfile.ZipInfo("docProps/custom.xml", _FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, custom_xml.encode())
    return out.getvalue()


_FIXED_DT = datetime(2026, 2, 2, 9, 0, 0)


def _docx(doc: Document, rng: np.random.Generator, people: list[dict[str, str]]) -> bytes:
    from docx import Document as Docx
    from docx.oxml import parse_xml
    from docx.shared import Inches

    d = Docx()
    cp = d.core_properties
    cp.created = cp.modified = _FIXED_DT
    cp.author = cp.last_modified_by = "ministry"
    cp.title = doc.title
    mark = marking(doc)
    section = d.sections[0]
    if "header" in doc.channels:
        section.header.paragraphs[0].text = mark
    if "footer" in doc.channels:
        section.footer.paragraphs[0].text = mark
    if "first_line" in doc.channels:
        d.add_paragraph(mark)
    if "stamp" in doc.channels:
        p = d.add_paragraph()
        p._p.append(parse_xml(_vml_textbox(mark)))
    d.add_heading(doc.title, level=1)
    for s in textgen.sentences(rng, doc.lang, int(rng.integers(8, 30))):
        d.add_paragraph(s)
    if people:
        table = d.add_table(rows=1, cols=len(PEOPLE_HEADER))
        for cell, text in zip(table.rows[0].cells, PEOPLE_HEADER, strict=True):
            cell.text = text
        for who in people:
            for cell, text in zip(table.add_row().cells, _row(who), strict=True):
                cell.text = text
    if "image_bytes" in doc.extra:
        # python-docx would deflate a large image; embed a thumbnail and swap the real scan in afterwards
        d.add_picture(io.BytesIO(_image(rng, 0, thumbnail=True)), width=Inches(5))
    buf = io.BytesIO()
    d.save(buf)
    media = _image(rng, doc.extra["image_bytes"]) if "image_bytes" in doc.extra else None
    custom = _custom_xml(doc.level) if doc.msip_label and doc.level else None
    return normalise_ooxml(buf.getvalue(), custom, media)


def _vml_textbox(text: str) -> str:
    return (
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml"><w:pict>'
        '<v:shape id="stamp" type="#_x0000_t202" style="position:absolute;margin-left:380pt;margin-top:-40pt;'
        'width:110pt;height:24pt;z-index:1" strokecolor="red"><v:textbox><w:txbxContent><w:p><w:r>'
        f"<w:t>{text}</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
    )


def _xlsx(doc: Document, rng: np.random.Generator, people: list[dict[str, str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty

    wb = Workbook()
    wb.properties.created = wb.properties.modified = _FIXED_DT
    wb.properties.creator = wb.properties.lastModifiedBy = "ministry"
    ws = wb.active
    assert ws is not None
    ws.title = "一覧" if doc.lang == "ja" else "List"
    mark = marking(doc)
    if "header" in doc.channels:
        ws.oddHeader.right.text = mark
    if "footer" in doc.channels:
        ws.oddFooter.center.text = mark
    if "first_line" in doc.channels:
        ws.append([mark])
    ws.append([doc.title])
    if people:
        ws.append(PEOPLE_HEADER)
        for p in people:
            ws.append(_row(p))
    else:
        ws.append(["項目", "金額（千円）", "備考"] if doc.lang == "ja" else ["Item", "Amount", "Note"])
        for s in textgen.sentences(rng, doc.lang, int(rng.integers(10, 40))):
            ws.append([s[:12], int(rng.integers(100, 500000)), s])
    if doc.msip_label and doc.level:
        guid, name = MSIP_LABELS[doc.level]
        for key, value in (
            ("Enabled", "true"),
            ("SetDate", "2026-02-02T09:00:00Z"),
            ("Method", "Privileged"),
            ("Name", name),
            ("SiteId", MSIP_SITE_ID),
            ("ContentBits", "0"),
        ):
            wb.custom_doc_props.append(StringProperty(name=f"MSIP_Label_{guid}_{key}", value=value))
    buf = io.BytesIO()
    wb.save(buf)
    return normalise_ooxml(buf.getvalue())


def _pptx(doc: Document, rng: np.random.Generator) -> bytes:
    from pptx import Presentation
    from pptx.util import Emu, Pt

    prs = Presentation()
    cp = prs.core_properties
    cp.created = cp.modified = _FIXED_DT
    cp.author = cp.last_modified_by = "ministry"
    cp.title = doc.title
    cp.revision = 1
    mark = marking(doc)
    picture = _image(rng, 0, thumbnail=True) if "image_bytes" in doc.extra else None
    for i in range(int(rng.integers(3, 8))):
        slide = prs.slides.add_slide(prs.slide_layouts[1 if i else 0])
        title_shape = slide.shapes.title
        assert title_shape is not None
        title_shape.text = (mark + "　" if i == 0 and "first_line" in doc.channels else "") + doc.title
        body = slide.placeholders[1]
        body.text = "\n".join(textgen.sentences(rng, doc.lang, 3))  # type: ignore[attr-defined]
        if "stamp" in doc.channels:
            box = slide.shapes.add_textbox(Emu(6_600_000), Emu(100_000), Emu(2_400_000), Emu(400_000))
            box.text_frame.text = mark
            box.text_frame.paragraphs[0].runs[0].font.size = Pt(14)
        if "footer" in doc.channels:
            box = slide.shapes.add_textbox(Emu(3_200_000), Emu(6_400_000), Emu(2_800_000), Emu(350_000))
            box.text_frame.text = mark
        if picture is not None and i == 1:
            slide.shapes.add_picture(
                io.BytesIO(picture), Emu(1_000_000), Emu(2_500_000), width=Emu(4_000_000)
            )
    buf = io.BytesIO()
    prs.save(buf)
    media = _image(rng, doc.extra["image_bytes"]) if "image_bytes" in doc.extra else None
    custom = _custom_xml(doc.level) if doc.msip_label and doc.level else None
    return normalise_ooxml(buf.getvalue(), custom, media)


_FONT_READY = False


def _pdf(doc: Document, rng: np.random.Generator) -> bytes:
    global _FONT_READY
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if not _FONT_READY:
        rl_config.useA85 = 0  # binary image streams: ASCII85 in pure Python is slow and bloats the file
        pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
        _FONT_READY = True
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(doc.title)
    c.setAuthor("ministry")
    w, h = A4
    mark = marking(doc)
    lines = textgen.sentences(rng, doc.lang, int(rng.integers(12, 40)))
    picture = _image(rng, doc.extra["image_bytes"]) if "image_bytes" in doc.extra else None
    pages = [lines[i : i + 20] for i in range(0, len(lines), 20)]
    for pno, chunk in enumerate(pages):
        c.setFont("HeiseiKakuGo-W5", 10)
        if "header" in doc.channels:
            c.drawRightString(w - 40, h - 30, mark)
        if "footer" in doc.channels:
            c.drawCentredString(w / 2, 20, mark)
        if "stamp" in doc.channels:
            c.acroForm.textfield(
                name=f"stamp{pno}",
                value=_stamp_placeholder(doc),
                x=30,
                y=h - 60,
                width=150,
                height=22,
                fontName="Helvetica",
                fieldFlags="readOnly",
                forceBorder=True,
                maxlen=100,
            )
        y = h - 80
        if pno == 0:
            if "first_line" in doc.channels:
                c.drawString(50, y, mark)
                y -= 20
            c.setFont("HeiseiKakuGo-W5", 14)
            c.drawString(50, y, doc.title)
            c.setFont("HeiseiKakuGo-W5", 10)
            y -= 28
        for line in chunk:
            c.drawString(50, y, line[:60])
            y -= 16
        if picture is not None and pno == 0:
            c.drawImage(ImageReader(io.BytesIO(picture)), 50, 60, width=300, height=200)
        c.showPage()
    c.save()
    data = buf.getvalue()
    if "stamp" in doc.channels:
        # reportlab cannot draw CJK appearance text for fields; the field *value* (what readers extract) is set
        # to the real marking as a UTF-16 PDF string, padded with whitespace so the xref offsets stay valid
        placeholder = f"({_stamp_placeholder(doc)})".encode()
        hexval = b"<FEFF" + mark.encode("utf-16-be").hex().upper().encode() + b">"
        data = data.replace(placeholder, hexval.ljust(len(placeholder)))
    return data


def _stamp_placeholder(doc: Document) -> str:
    """ASCII stand-in for the stamp (the CxIxAx shorthand of some agencies), padded to hold the real value."""
    return f"C{doc.level}" + " " * 70


def _text(doc: Document, rng: np.random.Generator, people: list[dict[str, str]]) -> bytes:
    mark = marking(doc)
    if doc.kind == "csv":
        sio = io.StringIO()
        writer = csv.writer(sio, lineterminator="\r\n")
        if "first_line" in doc.channels:
            writer.writerow([mark])
        if people:
            writer.writerow(PEOPLE_HEADER)
            writer.writerows(_row(p) for p in people)
        else:
            writer.writerow(["番号", "内容"])
            writer.writerows([i + 1, s] for i, s in enumerate(textgen.sentences(rng, doc.lang, 20)))
        return sio.getvalue().encode("utf-8-sig")
    lines = ([mark] if "first_line" in doc.channels else []) + [doc.title, ""]
    lines += textgen.sentences(rng, doc.lang, int(rng.integers(8, 25)))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def build_share(
    root: Path,
    cfg: SimulationConfig,
    rng: np.random.Generator,
    progress: Callable[[int, int], None] | None = None,
) -> list[Document]:
    """Write the share under ``root`` and return its documents with sizes and hashes."""
    docs = _plan(cfg, rng)
    for n, doc in enumerate(docs, 1):
        drng = np.random.default_rng(
            [cfg.seed, 7, len(doc.path), int.from_bytes(doc.path.encode()[:8], "big")]
        )
        people = _people(drng, doc.pii_people) if doc.pii_people else []
        if doc.kind == "docx":
            data = _docx(doc, drng, people)
        elif doc.kind == "xlsx":
            data = _xlsx(doc, drng, people)
        elif doc.kind == "pptx":
            data = _pptx(doc, drng)
        elif doc.kind == "pdf":
            data = _pdf(doc, drng)
        else:
            data = _text(doc, drng, people)
        target = root / doc.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        doc.size = len(data)
        doc.sha256 = hashlib.sha256(data).hexdigest()
        doc.extra["people"] = people
        if progress is not None:
            progress(n, len(docs))
    return docs
