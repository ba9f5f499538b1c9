"""OLE2 containers: Outlook .msg (read with olefile), password-protected Office, 一太郎 and legacy .doc."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from leaktrace.documents.model import DocumentRecord, Status
from leaktrace.documents.samples import make_docx

from .olewriter import utf16, write_ole

pytest.importorskip("olefile")  # a dependency of leaktrace (BSD); .msg and OLE identification need it
Scan = Callable[[Path], list[DocumentRecord]]
GUID = "f42aa342-8706-4288-bd11-ebb85995028c"


def test_msg_subject_body_headers_attachment(tmp_path: Path, scan_one: Scan) -> None:
    att = make_docx(tmp_path / "a.docx", ["本文"], header="機密性３情報").read_bytes()
    headers = f"Subject: x\r\nmsip_labels: MSIP_Label_{GUID}_Enabled=true;\r\n MSIP_Label_{GUID}_Name=Confidential\r\n"
    p = tmp_path / "mail.msg"
    p.write_bytes(write_ole({
        "__substg1.0_0037001F": utf16("【機密性２】資料送付"),
        "__substg1.0_1000001F": utf16("お疲れ様です。\nマイナンバー 123456789018"),
        "__substg1.0_007D001F": utf16(headers),
        "__substg1.0_0C1F001F": utf16("taro@example.go.jp"),
        "__attach_version1.0_#00000000/__substg1.0_3707001F": utf16("予算.docx"),
        "__attach_version1.0_#00000000/__substg1.0_37010102": att,
        "__attach_version1.0_#00000001/__substg1.0_3707001F": utf16("embedded.msg"),
    }))
    recs = scan_one(p)
    names = [r.path[len(str(tmp_path)) + 1 :] for r in recs]
    assert names == ["mail.msg", "mail.msg!/予算.docx", "mail.msg!/embedded.msg"]
    mail, doc, embedded = recs
    assert (mail.format, mail.status, mail.title) == ("msg", Status.OK, "【機密性２】資料送付")
    assert {e["channel"] for e in mail.evidence} >= {"subject", "msip-label:msip_labels-header", "member"}
    assert mail.level == "機密性3" and doc.level == "機密性3"
    assert mail.pii_high.get("my_number") == 1 and mail.pii_counts.get("email") == 1
    assert embedded.status == Status.UNSUPPORTED


def test_password_protected_office_listed(tmp_path: Path, scan_one: Scan) -> None:
    p = tmp_path / "名簿.xlsx"
    p.write_bytes(write_ole({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x01" * 5000}))
    (r,) = scan_one(p)
    assert (r.status, r.format) == (Status.ENCRYPTED, "encrypted-office")
    assert "password" in (r.reason or "")


def test_ichitaro_ole_and_legacy_doc(tmp_path: Path, scan_one: Scan) -> None:
    p = tmp_path / "報告.jtd"
    p.write_bytes(write_ole({"DocumentText": b"x" * 100}))
    (r,) = scan_one(p)
    assert (r.status, r.format) == (Status.UNSUPPORTED, "jtd") and "一太郎" in (r.reason or "")
    q = tmp_path / "old.doc"
    q.write_bytes(write_ole({"WordDocument": b"x" * 100}))
    (r,) = scan_one(q)
    assert (r.status, r.format) == (Status.UNSUPPORTED, "doc") and ".docx" in (r.reason or "")
