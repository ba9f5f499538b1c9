"""Generate small marked Office/PDF documents (tests, benchmarks, simulator). Needs python-docx,
openpyxl, python-pptx, reportlab and pypdf, which leaktrace depends on anyway."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
LABEL_CT = "application/vnd.ms-office.classificationlabels+xml"
LABEL_REL = "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_TEXTBOX = (
    '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape style="width:120pt;height:30pt">'
    "<v:textbox><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent></v:textbox>"
    "</v:shape></w:pict></w:r>"
)
_WATERMARK = (
    '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape style="rotation:315">'
    '<v:textpath style="font-family:&quot;MS Gothic&quot;" string="{text}"/></v:shape></w:pict></w:r>'
)


def _rewrite(path: Path, extra: dict[str, bytes], ct: list[tuple[str, str]], rels: list[tuple[str, str, str]]) -> None:
    """Add parts, content-type overrides and package relationships to an OOXML file in place."""
    src = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                add = "".join(f'<Override PartName="/{p}" ContentType="{t}"/>' for p, t in ct)
                data = data.replace(b"</Types>", add.encode() + b"</Types>")
            elif item.filename == "_rels/.rels":
                add = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{p}"/>' for i, t, p in rels)
                data = data.replace(b"</Relationships>", add.encode() + b"</Relationships>")
            if item.filename not in extra:
                zout.writestr(item, data)
        for name, data in extra.items():
            zout.writestr(name, data)
    path.write_bytes(out.getvalue())


def add_custom_properties(path: Path, props: dict[str, str]) -> None:
    """Write ``docProps/custom.xml`` (replacing any) with string properties, e.g. MSIP_Label_* keys."""
    body = "".join(
        f'<property fmtid="{FMTID}" pid="{i + 2}" name="{escape(k)}"><vt:lpwstr>{escape(v)}</vt:lpwstr></property>'
        for i, (k, v) in enumerate(props.items())
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">' + body + "</Properties>"
    )
    with zipfile.ZipFile(path) as zf:
        present = "docProps/custom.xml" in zf.namelist()
    ct = [] if present else [("docProps/custom.xml", CUSTOM_CT)]
    rels = [] if present else [("rIdCustom9", CUSTOM_REL, "docProps/custom.xml")]
    _rewrite(path, {"docProps/custom.xml": xml.encode()}, ct, rels)


def msip_properties(label_id: str, name: str | None = None, site_id: str = "cb46c030-1825-4e81-a295-151c039dbf02",
                    enabled: bool = True) -> dict[str, str]:
    p = f"MSIP_Label_{label_id}_"
    props = {p + "Enabled": "true" if enabled else "false", p + "SiteId": site_id, p + "Method": "Privileged"}
    if name:
        props[p + "Name"] = name
    return props


def add_label_info(path: Path, label_id: str, site_id: str = "cb46c030-1825-4e81-a295-151c039dbf02",
                   enabled: bool = True, removed: bool = False) -> None:
    """Write ``docMetadata/LabelInfo.xml`` (MS-OFFCRYPTO 2.6.4) and its package relationship."""
    xml = (
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>'
        '<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">'
        f'<clbl:label id="{{{label_id}}}" enabled="{int(enabled)}" method="Privileged" siteId="{{{site_id}}}" '
        f'contentBits="2" removed="{int(removed)}"/></clbl:labelList>'
    )
    _rewrite(path, {"docMetadata/LabelInfo.xml": xml.encode()}, [("docMetadata/LabelInfo.xml", LABEL_CT)],
             [("rIdLabel9", LABEL_REL, "docMetadata/LabelInfo.xml")])


def make_docx(path: Path, body: Sequence[str], header: str | None = None, footer: str | None = None,
              textbox: str | None = None, title: str | None = None, watermark: str | None = None) -> Path:
    from docx import Document
    from docx.oxml import parse_xml

    doc = Document()
    if title:
        doc.core_properties.title = title
    sec = doc.sections[0]
    if header:
        sec.header.paragraphs[0].text = header
    if footer:
        sec.footer.paragraphs[0].text = footer
    if watermark:  # VML text path in the header, as Word's "Design > Watermark" writes it
        sec.header.paragraphs[0]._p.append(parse_xml(_WATERMARK.format(text=escape(watermark, {'"': "&quot;"}))))
    if textbox:
        p = doc.add_paragraph()
        p._p.append(parse_xml(_TEXTBOX.format(text=escape(textbox))))
    for line in body:
        doc.add_paragraph(line)
    doc.save(str(path))
    return path


def make_xlsx(path: Path, rows: Sequence[Sequence[object]], sheet: str = "Sheet1", header: str | None = None,
              footer: str | None = None) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    if header:
        ws.oddHeader.center.text = header
    if footer:
        ws.oddFooter.center.text = footer
    wb.save(str(path))
    return path


def make_pptx(path: Path, slides: Sequence[tuple[str, Sequence[str]]], stamp: str | None = None,
              notes: str | None = None) -> Path:
    from pptx import Presentation
    from pptx.util import Inches, Pt

    prs = Presentation()
    for i, (title, lines) in enumerate(slides):
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = "\n".join(lines)
        if stamp and i == 0:
            box = slide.shapes.add_textbox(Inches(7.5), Inches(0.1), Inches(2), Inches(0.5))
            box.text_frame.text = stamp
            box.text_frame.paragraphs[0].runs[0].font.size = Pt(12)
        if notes and i == 0:
            slide.notes_slide.notes_text_frame.text = notes
    prs.save(str(path))
    return path


def make_pdf(path: Path, lines: Sequence[str], header: str | None = None, stamp_field: str | None = None,
             annotation: str | None = None, title: str | None = None, user_password: str | None = None) -> Path:
    """One page per 40 lines; ``header`` is drawn at the top of every page; ``stamp_field`` becomes the
    value of a read-only AcroForm text field (as the 機密性 stamp add-ins do)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, NumberObject, TextStringObject
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    font = "HeiseiKakuGo-W5"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    pages = [list(lines[i:i + 40]) for i in range(0, max(1, len(lines)), 40)] or [[]]
    for page in pages:
        c.setFont(font, 10)
        if header:
            c.drawString(400, 810, header)
        for j, line in enumerate(page):
            c.drawString(50, 760 - 16 * j, line)
        if stamp_field is not None and page is pages[0]:
            c.acroForm.textfield(name="classification", value="X", x=40, y=780, width=150, height=18)
        c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buf.getvalue())))
    if stamp_field is not None:
        for a in writer.pages[0].get("/Annots") or []:
            obj = a.get_object()
            obj[NameObject("/V")] = TextStringObject(stamp_field)
            obj[NameObject("/Ff")] = NumberObject(1)
    if annotation is not None:
        note = DictionaryObject({NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Text"),
                                 NameObject("/Contents"): TextStringObject(annotation)})
        writer.add_annotation(0, note)
    if title:
        writer.add_metadata({"/Title": title})
    if user_password:
        writer.encrypt(user_password, algorithm="RC4-128")
    with path.open("wb") as f:
        writer.write(f)
    return path
