"""Every marking channel in generated documents, encodings, mail, and unreadable formats listed."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from leaktrace.documents.extract import detect_format, extract
from leaktrace.documents.extract.text import decode
from leaktrace.documents.extract.xlsx import header_footer_text
from leaktrace.documents.model import DocumentRecord, Status, Zone
from leaktrace.documents.samples import (
    add_custom_properties,
    add_label_info,
    make_docx,
    make_pdf,
    make_pptx,
    make_xlsx,
    msip_properties,
)

Scan = Callable[[Path], list[DocumentRecord]]
GUID = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"
BODY = ["令和8年度 予算要求の概要", "本資料は会議用である。", "詳細は別紙のとおり。"]


def one(scan_one: Scan, path: Path) -> DocumentRecord:
    recs = scan_one(path)
    assert len(recs) == 1
    return recs[0]


def test_docx_header(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_docx(tmp_path / "a.docx", BODY, header="機密性２情報"))
    assert (r.status, r.format, r.level, r.channels) == (Status.OK, "docx", "機密性2", ["header"])


def test_docx_footer_and_qualifier(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_docx(tmp_path / "a.docx", BODY, footer="機密性３・複製禁止"))
    assert (r.level, r.channels, r.qualifiers) == ("機密性3", ["footer"], ["複製禁止"])


def test_docx_first_line(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_docx(tmp_path / "a.docx", ["【機密性２】", *BODY]))
    assert (r.level, r.channels) == ("機密性2", ["body_first_lines"])


def test_docx_stamp_text_box(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_docx(tmp_path / "a.docx", BODY, textbox="極秘"))
    assert (r.level, r.channels) == ("極秘", ["stamp"])


def test_docx_watermark(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_docx(tmp_path / "a.docx", BODY, watermark="機密性３"))
    assert (r.level, r.channels) == ("機密性3", ["stamp"])


def test_docx_msip_custom_property(tmp_path: Path, scan_one: Scan) -> None:
    p = make_docx(tmp_path / "a.docx", BODY)
    add_custom_properties(p, msip_properties(GUID, "Highly Confidential"))
    r = one(scan_one, p)
    assert (r.level, r.channels) == ("機密性3", ["msip-label:custom-properties"])


def test_docx_label_info_mapped(tmp_path: Path) -> None:
    from leaktrace.config import ClassificationConfig
    from leaktrace.documents.scanner import Scanner

    p = make_docx(tmp_path / "a.docx", BODY)
    add_label_info(p, GUID)
    r = Scanner(ClassificationConfig(msip_labels={GUID: "機密性2"})).scan_file(p)[0]
    assert (r.level, r.channels, r.confidence) == ("機密性2", ["msip-label:LabelInfo.xml"], 0.95)


def test_docx_removed_label_ignored(tmp_path: Path, scan_one: Scan) -> None:
    p = make_docx(tmp_path / "a.docx", BODY)
    add_label_info(p, GUID, removed=True)
    assert one(scan_one, p).level is None


def test_file_name(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_docx(tmp_path / "機密性２_予算.docx", BODY))
    assert (r.level, r.channels) == ("機密性2", ["filename"])
    r = one(scan_one, make_docx(tmp_path / "秘書課_名簿.docx", BODY))
    assert r.level is None


def test_docx_traps_in_body(tmp_path: Path, scan_one: Scan) -> None:
    body = [*BODY, "秘書課より連絡。", "重要機密情報の管理を徹底する。", "秘密保持契約を締結した。", "黙秘"]
    assert one(scan_one, make_docx(tmp_path / "a.docx", body, header="総務課")).level is None


def test_xlsx_header_cells_sheet(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_xlsx(tmp_path / "a.xlsx", [["職員名簿"], ["氏名", "電話"], ["山田", "03-1234-5678"]],
                                header="機密性２情報"))
    assert (r.format, r.level, r.channels) == ("xlsx", "機密性2", ["header"])
    assert r.pii_counts == {"phone": 1} and r.people_estimate == 1
    r = one(scan_one, make_xlsx(tmp_path / "b.xlsx", [["機密性３"], ["x"]], sheet="data"))
    assert (r.level, r.channels) == ("機密性3", ["body_first_lines"])


def test_xlsx_header_codes() -> None:
    assert header_footer_text('&L&"ＭＳ ゴシック,太字"&12機密性２&R&P / &N') == "機密性２\n /"


def test_pptx_stamp_and_notes(tmp_path: Path, scan_one: Scan) -> None:
    p = make_pptx(tmp_path / "a.pptx", [("予算説明", ["概要"]), ("詳細", ["内訳"])], stamp="機密性２", notes="メモ")
    r = one(scan_one, p)
    assert (r.format, r.level, r.channels) == ("pptx", "機密性2", ["stamp"])
    ex = extract(p.read_bytes(), str(p))
    assert "メモ" in ex.text((Zone.BODY,))


def test_pdf_page_header(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_pdf(tmp_path / "a.pdf", BODY * 3, header="機密性２情報"))
    assert (r.format, r.level, r.channels) == ("pdf", "機密性2", ["header"])


def test_pdf_form_field_stamp(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_pdf(tmp_path / "a.pdf", BODY * 3, stamp_field="機密性３情報\n共有範囲：メンバー限り"))
    assert (r.level, r.channels, r.qualifiers) == ("機密性3", ["stamp"], ["メンバー限り"])


def test_pdf_annotation_and_title(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_pdf(tmp_path / "a.pdf", BODY * 3, annotation="極秘", title="【機密性２】予算"))
    assert r.level == "極秘" and r.title == "【機密性２】予算"
    assert {e["level"] for e in r.evidence} == {"極秘", "機密性2"}


def test_encrypted_pdf_listed(tmp_path: Path, scan_one: Scan) -> None:
    r = one(scan_one, make_pdf(tmp_path / "機密性３_secret.pdf", BODY, user_password="pw"))
    assert (r.status, r.format) == (Status.ENCRYPTED, "pdf")
    assert "password" in (r.reason or "")
    assert r.level == "機密性3"  # the file name still tells


def test_ichitaro_listed_with_reason(tmp_path: Path, scan_one: Scan) -> None:
    p = tmp_path / "【秘】計画.jtd"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000))
    r = one(scan_one, p)
    assert (r.status, r.format) == (Status.UNSUPPORTED, "jtd")
    assert "一太郎" in (r.reason or "")
    assert r.level == "秘"


def test_unknown_binary_and_broken_docx(tmp_path: Path, scan_one: Scan) -> None:
    p = tmp_path / "blob.bin"
    p.write_bytes(bytes(range(256)) * 4)
    assert one(scan_one, p).status == Status.UNSUPPORTED
    q = tmp_path / "broken.docx"
    q.write_bytes(b"PK\x03\x04" + b"garbage" * 10)
    r = one(scan_one, q)
    assert r.status == Status.ERROR and r.reason


@pytest.mark.parametrize("encoding", ["utf-8", "cp932", "shift_jis", "euc-jp", "utf-16", "iso-2022-jp"])
def test_text_encodings(encoding: str, tmp_path: Path, scan_one: Scan) -> None:
    text = "機密性２情報\n本日の会議資料をお送りします。ご確認ください。\n"
    data = text.encode(encoding)
    assert decode(data)[0] == text
    p = tmp_path / "memo.txt"
    p.write_bytes(data)
    assert one(scan_one, p).level == "機密性2"


def test_utf8_bom_csv(tmp_path: Path, scan_one: Scan) -> None:
    p = tmp_path / "list.csv"
    p.write_bytes(codecs.BOM_UTF8 + "氏名,マイナンバー\n山田,123456789018\n田中,111111111118\n".encode())
    r = one(scan_one, p)
    assert r.format == "csv" and r.pii_high == {"my_number": 2} and r.people_estimate == 2


def test_html(tmp_path: Path, scan_one: Scan) -> None:
    p = tmp_path / "page.html"
    p.write_text("<html><head><title>TLP</title><style>x{}</style></head><body><p>【機密性２】</p><p>本文</p></body></html>")
    r = one(scan_one, p)
    assert (r.format, r.level) == ("html", "機密性2")


def test_eml_with_attachment_and_msip_header(tmp_path: Path, scan_one: Scan) -> None:
    attachment = make_docx(tmp_path / "att.docx", BODY, header="機密性３情報").read_bytes()
    msg = EmailMessage()
    msg["Subject"] = "【機密性２】資料送付"
    msg["From"] = "taro@example.go.jp"
    msg["To"] = "hanako@example.go.jp"
    msg["msip_labels"] = f"MSIP_Label_{GUID}_Enabled=true; MSIP_Label_{GUID}_Name=Confidential"
    msg.set_content("お疲れ様です。\n資料を送ります。", charset="iso-2022-jp")
    msg.add_attachment(attachment, maintype="application", subtype="octet-stream", filename="予算.docx")
    p = tmp_path / "mail.eml"
    p.write_bytes(msg.as_bytes())
    recs = scan_one(p)
    assert [r.path[len(str(tmp_path)) + 1 :] for r in recs] == ["mail.eml", "mail.eml!/予算.docx"]
    mail, att = recs
    assert att.level == "機密性3" and att.container == mail.path
    assert mail.level == "機密性3" and mail.channels == ["member"]  # highest of mail and attachment
    assert {e["channel"] for e in mail.evidence} >= {"subject", "msip-label:msip_labels-header", "member"}
    assert mail.pii_counts["email"] == 2


def test_detect_format_by_content_not_name(tmp_path: Path) -> None:
    p = make_docx(tmp_path / "a.docx", BODY)
    assert detect_format(p.read_bytes(), "renamed.dat") == ("docx", None)
    assert detect_format(b"%PDF-1.4\n", "x.txt")[0] == "pdf"


def test_pdf_msip_metadata(tmp_path: Path, scan_one: Scan) -> None:
    from pypdf import PdfReader, PdfWriter

    p = make_pdf(tmp_path / "a.pdf", BODY)
    w = PdfWriter(clone_from=PdfReader(p))
    w.add_metadata({f"/MSIP_Label_{GUID}_Enabled": "true", f"/MSIP_Label_{GUID}_Name": "機密性３"})
    with p.open("wb") as f:
        w.write(f)
    r = one(scan_one, p)
    assert (r.level, r.channels) == ("機密性3", ["msip-label:pdf-metadata"])
