"""Archives: members as ``outer!/inner``, recursion, bomb guards, encrypted members listed."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from leaktrace.documents.extract import Limits
from leaktrace.documents.model import Status
from leaktrace.documents.samples import make_docx
from leaktrace.documents.scanner import Scanner

BODY = ["予算要求の概要", "本資料は会議用である。"]


def rel(tmp: Path, path: str) -> str:
    return path[len(str(tmp)) + 1 :]


def test_zip_members_recursive(tmp_path: Path) -> None:
    doc = make_docx(tmp_path / "d.docx", BODY, header="機密性２情報").read_bytes()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("deep/secret.docx", make_docx(tmp_path / "e.docx", BODY, header="機密性３情報").read_bytes())
    p = tmp_path / "leak.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("inner/doc.docx", doc)
        z.writestr("inner/more.zip", inner.getvalue())
        z.writestr("notes.txt", "メモ")
    recs = Scanner().scan_file(p)
    assert [rel(tmp_path, r.path) for r in recs] == [
        "leak.zip", "leak.zip!/inner/doc.docx", "leak.zip!/inner/more.zip",
        "leak.zip!/inner/more.zip!/deep/secret.docx", "leak.zip!/notes.txt",
    ]
    assert recs[0].level == "機密性3" and recs[0].channels == ["member"]
    assert recs[2].container == recs[0].path and recs[3].container == recs[2].path
    assert all(r.status == Status.OK for r in recs)


def test_zip_bomb_refused(tmp_path: Path) -> None:
    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.txt", bytes(50 * 1024 * 1024))
    assert p.stat().st_size < 200_000
    recs = Scanner().scan_file(p)
    assert len(recs) == 1
    assert recs[0].status == Status.REFUSED and "compresses" in (recs[0].reason or "")


def test_member_count_and_total_size_limits(tmp_path: Path) -> None:
    p = tmp_path / "many.zip"
    with zipfile.ZipFile(p, "w") as z:
        for i in range(20):
            z.writestr(f"f{i}.txt", "x" * 1000)
    recs = Scanner(limits=Limits(max_members=10)).scan_file(p)
    assert recs[0].status == Status.REFUSED and "20 members" in (recs[0].reason or "")
    recs = Scanner(limits=Limits(max_total_bytes=5000)).scan_file(p)
    assert recs[0].status == Status.REFUSED and "bytes declared" in (recs[0].reason or "")


def test_tar_gz_bomb_refused_while_streaming(tmp_path: Path) -> None:
    p = tmp_path / "bomb.tar.gz"
    with tarfile.open(p, "w:gz") as t:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 20 * 1024 * 1024
        t.addfile(info, io.BytesIO(bytes(info.size)))
    recs = Scanner(limits=Limits(max_total_bytes=2 * 1024 * 1024)).scan_file(p)
    assert len(recs) == 1 and recs[0].status == Status.REFUSED


def test_tar_gz_members(tmp_path: Path) -> None:
    p = tmp_path / "docs.tgz"
    with tarfile.open(p, "w:gz") as t:
        t.add(make_docx(tmp_path / "a.docx", BODY, header="機密性２"), arcname="share/a.docx")
    recs = Scanner().scan_file(p)
    assert [rel(tmp_path, r.path) for r in recs] == ["docs.tgz", "docs.tgz!/share/a.docx"]
    assert recs[1].level == "機密性2" and recs[0].format == "tar"


def test_nesting_depth_limit(tmp_path: Path) -> None:
    data = b"TLP:RED"
    for i in range(4):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(f"level{i}.zip" if i else "x.txt", data)
        data = buf.getvalue()
    p = tmp_path / "nest.zip"
    p.write_bytes(data)
    recs = Scanner(limits=Limits(max_depth=2)).scan_file(p)
    assert recs[-1].status == Status.REFUSED and "nested deeper" in (recs[-1].reason or "")
    assert len(recs) == 4  # nest.zip (depth 0), level3 (1), level2 (2), level1.zip refused (3)


def test_encrypted_zip_member_listed(tmp_path: Path) -> None:
    p = tmp_path / "enc.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("【機密性３】名簿.xlsx", b"ciphertext")
    raw = bytearray(p.read_bytes())
    raw[6] |= 1  # general-purpose flag bit 0 (encrypted), local header
    cd = raw.find(b"PK\x01\x02")
    raw[cd + 8] |= 1  # … and central directory
    p.write_bytes(bytes(raw))
    recs = Scanner().scan_file(p)
    assert recs[1].status == Status.ENCRYPTED and "password" in (recs[1].reason or "")
    assert recs[1].level == "機密性3"  # from the member's name
    assert recs[0].level == "機密性3"
