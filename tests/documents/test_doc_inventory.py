"""Scanner + SQLite inventory: persistence, incremental re-scan, look-ups, fingerprint matching."""

from __future__ import annotations

import os
import random
from pathlib import Path

from leaktrace.documents.fingerprint import fingerprints
from leaktrace.documents.model import Status
from leaktrace.documents.samples import make_docx, make_pdf
from leaktrace.documents.scanner import ScanProgress, scan
from leaktrace.documents.store import Inventory

KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろ機密情報報告書予算会議資料"


def sentences(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(KANA) for _ in range(40)) + "。" for _ in range(n)]


def make_share(root: Path) -> Path:
    share = root / "share"
    (share / "課").mkdir(parents=True)
    make_docx(share / "課" / "予算.docx", sentences(60, 1), header="機密性２情報")
    make_docx(share / "名簿.docx", ["職員名簿", "個人番号 123456789018", "個人番号 111111111118"], footer="機密性３")
    make_pdf(share / "公開.pdf", sentences(10, 2))
    (share / "memo.txt").write_text("TLP:RED\n連絡先 taro@example.go.jp\n", encoding="utf-8")
    (share / "old.jtd").write_bytes(b"\x00" * 100)
    return share


def test_scan_and_persist(tmp_path: Path) -> None:
    share = make_share(tmp_path)
    seen: list[ScanProgress] = []
    with Inventory(tmp_path / "state") as inv:
        n = inv.upsert(scan([share], progress=seen.append))
        assert n == len(inv) == 5
        assert seen[-1].done == seen[-1].total == 5
        budget = inv.by_path(share / "課" / "予算.docx")
        assert budget is not None and budget.level == "機密性2" and len(budget.fingerprints) > 100
        roster = inv.by_path(share / "名簿.docx")
        assert roster is not None
        assert (roster.level, roster.pii_high, roster.people_estimate) == ("機密性3", {"my_number": 2}, 2)
        assert inv.by_sha256(roster.sha256)[0].path == roster.path
        assert roster.text_sha256 and inv.by_sha256(roster.text_sha256)[0].path == roster.path
        assert [r.path for r in inv.all(level="機密性2")] == [budget.path]
        jtd = inv.by_path(share / "old.jtd")
        assert jtd is not None and jtd.status == Status.UNSUPPORTED
    assert (tmp_path / "state" / "documents.sqlite").exists()


def test_incremental_rescan(tmp_path: Path) -> None:
    share = make_share(tmp_path)
    with Inventory(tmp_path / "state") as inv:
        inv.upsert(scan([share]))
        again = list(scan([share], previous=inv))
        assert {r.origin for r in again} == {"unchanged"}
        assert inv.upsert(again) == 0
        touched = share / "memo.txt"
        st = touched.stat()
        os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # same bytes, new mtime
        changed = share / "課" / "予算.docx"
        make_docx(changed, sentences(60, 1), header="機密性３情報")
        origins = {Path(r.path).name: r.origin for r in scan([share], previous=inv)}
        assert origins["memo.txt"] == "same-hash"
        assert origins["予算.docx"] == "extracted"
        assert origins["名簿.docx"] == "unchanged"
        inv.upsert(scan([share], previous=inv))
        rec = inv.by_path(changed)
        assert rec is not None and rec.level == "機密性3"
        memo = inv.by_path(touched)
        assert memo is not None and memo.mtime_ns == st.st_mtime_ns + 5_000_000_000
        assert {r.origin for r in scan([share], previous=inv)} == {"unchanged"}


def test_prune_removed_files(tmp_path: Path) -> None:
    share = make_share(tmp_path)
    with Inventory(tmp_path / "state") as inv:
        inv.upsert(scan([share]))
        (share / "memo.txt").unlink()
        recs = list(scan([share], previous=inv))
        assert inv.prune([str(share)], {r.path for r in recs}) == 1
        assert len(inv) == 4


def test_match_fingerprint_partial_copy(tmp_path: Path) -> None:
    share = make_share(tmp_path)
    with Inventory(tmp_path / "state") as inv:
        inv.upsert(scan([share]))
        original = sentences(60, 1)
        leaked = "\n".join(sentences(30, 99) + original[20:38] + sentences(30, 98))  # 30 % of 予算.docx
        matches = inv.match_fingerprint(fingerprints(leaked), min_containment=0.1)
        assert [Path(m.path).name for m in matches] == ["予算.docx"]
        assert 0.2 < matches[0].containment < 0.4
        assert matches[0].level == "機密性2"
        assert inv.match_fingerprint(fingerprints("\n".join(sentences(50, 7)))) == []


def test_parallel_scan_matches_sequential(tmp_path: Path) -> None:
    share = make_share(tmp_path)
    seq = list(scan([share]))
    par = list(scan([share], workers=2))
    key = [(r.path, r.level, r.sha256, r.fingerprints, r.pii_counts) for r in seq]
    assert key == [(r.path, r.level, r.sha256, r.fingerprints, r.pii_counts) for r in par]
    with Inventory(tmp_path / "state") as inv:
        inv.upsert(seq)
        make_docx(share / "名簿.docx", ["職員名簿"], footer="機密性１")
        origins = {Path(r.path).name: r.origin for r in scan([share], previous=inv, workers=2)}
        assert origins["名簿.docx"] == "extracted" and origins["予算.docx"] == "unchanged"


def test_huge_text_is_capped_for_analysis(tmp_path: Path) -> None:
    from leaktrace.documents.scanner import Scanner

    p = tmp_path / "dump.log"
    p.write_text("【機密性２】\n" + "x" * 5000 + "\nマイナンバー 123456789018\n", encoding="utf-8")
    scanner = Scanner()
    scanner.max_chars = 1000
    (r,) = scanner.scan_file(p)
    assert r.status == Status.OK and r.level == "機密性2"
    assert r.pii_counts == {} and "first 1,000 of" in (r.reason or "")


def test_rescanned_archive_drops_old_members(tmp_path: Path) -> None:
    import zipfile

    share = tmp_path / "s"
    share.mkdir()
    z = share / "a.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("one.txt", "機密性２")
        f.writestr("two.txt", "x")
    with Inventory(tmp_path / "state") as inv:
        inv.upsert(scan([share]))
        assert len(inv) == 3
        with zipfile.ZipFile(z, "w") as f:
            f.writestr("three.txt", "y")
        os.utime(z, ns=(1, 2))
        inv.upsert(scan([share], previous=inv))
        assert len(inv) == 2
        assert {r.path.rsplit("!/", 1)[-1] for r in inv.all() if r.container} == {"three.txt"}


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    import pytest

    from leaktrace.errors import LeaktraceError

    with pytest.raises(LeaktraceError, match="no such file"):
        list(scan([tmp_path / "nope"]))


def test_match_ignores_boilerplate_shared_by_many_documents(tmp_path: Path) -> None:
    from leaktrace.documents.model import DocumentRecord

    boiler = "\n".join(sentences(5, 500))  # the same letterhead paragraph in every document
    texts = {f"d{i:02d}.txt": boiler + "\n" + "\n".join(sentences(20, i)) for i in range(60)}
    recs = [DocumentRecord(doc_id=str(i), path=name, size=1, mtime_ns=0, sha256=str(i), format="text",
                           fingerprints=fingerprints(t)) for i, (name, t) in enumerate(texts.items())]
    with Inventory(tmp_path / "state") as inv:
        inv.upsert(recs)
        only_boilerplate = inv.match_fingerprint(fingerprints(boiler + "\n" + "\n".join(sentences(20, 999))))
        assert only_boilerplate == []
        hit = inv.match_fingerprint(fingerprints(texts["d07.txt"]))
        assert [m.path for m in hit] == ["d07.txt"] and hit[0].containment == 1.0
        everything = inv.match_fingerprint(fingerprints(boiler), max_doc_freq=None)
        assert len(everything) == 60


def test_leaked_archive_matches_its_source(tmp_path: Path) -> None:
    import io
    import zipfile

    from leaktrace.documents.scanner import Scanner

    share = make_share(tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(share / "課" / "予算.docx", "x/a.docx")
    with Inventory(tmp_path / "state") as inv:
        inv.upsert(scan([share]))
        matches = inv.match_fingerprint(Scanner().blob_fingerprints(buf.getvalue(), "upload.zip"))
        assert [Path(m.path).name for m in matches] == ["予算.docx"] and matches[0].containment == 1.0
