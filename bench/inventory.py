"""Benchmark of the document inventory: full scan and incremental re-scan of a generated share.

    .venv/bin/python bench/inventory.py [--files 10000] [--dir DIR] [--keep]

Generates a share (docx 30 %, xlsx 20 %, pptx 15 %, pdf 15 %, txt 20 %) from ~50 marked templates whose body
text is varied per file (random Japanese sentences, some with My Numbers), so every file has its own hash,
text and fingerprints. Then times: a full scan into a fresh inventory (extract, classify, PII, fingerprint,
SQLite upsert), a re-scan with nothing changed, and a re-scan after 5 % of the files were rewritten.
Prints a result block for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

from leaktrace.documents import samples
from leaktrace.documents.scanner import scan
from leaktrace.documents.store import Inventory

TOKEN = "VARIANTTOKEN"
MIX = [("docx", 30), ("xlsx", 20), ("pptx", 15), ("pdf", 15), ("txt", 20)]
MARKS = ["機密性２情報", "機密性３情報", "機密性１情報", "機密性２・複製禁止", "極秘", "秘", "取扱注意", "", "", ""]
WORDS = list("予算要求会議資料外交文書通信記録分析対応調査結果担当職員管理規程報告方針計画協議確認連絡事項案件概要詳細別紙参考審議決定")
WORDS = [WORDS[i] + WORDS[i + 1] for i in range(0, len(WORDS), 2)]
LAST_CPU = 0.0
ROOT_PARTS = {"docx": "word/document.xml", "xlsx": "xl/sharedStrings.xml", "pptx": "ppt/slides/slide1.xml"}


def sentence(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))) + "について。"


def body(rng: random.Random, n: int) -> str:
    lines = [sentence(rng) for _ in range(n)]
    if rng.random() < 0.2:
        lines.append(f"個人番号 {rng.choice(['123456789018', '111111111118', '465281266333'])}")
    return " ".join(lines)


def templates(tmp: Path) -> dict[str, list[bytes]]:
    """~10 templates per Office format (one per marking style) with a TOKEN where the body varies."""
    out: dict[str, list[bytes]] = {"docx": [], "xlsx": [], "pptx": []}
    for i, mark in enumerate(MARKS):
        p = tmp / f"t{i}"
        out["docx"].append(samples.make_docx(p.with_suffix(".docx"), ["件名", TOKEN],
                                             header=mark or None, textbox=("秘" if i == 5 else None)).read_bytes())
        out["xlsx"].append(samples.make_xlsx(p.with_suffix(".xlsx"), [[mark or "一覧"], ["氏名", "内容"], ["山田", TOKEN]],
                                             header=mark or None).read_bytes())
        out["pptx"].append(samples.make_pptx(p.with_suffix(".pptx"), [("説明資料", [TOKEN])],
                                             stamp=mark or None).read_bytes())
    return out


def vary_ooxml(template: bytes, fmt: str, text: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(template))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == ROOT_PARTS[fmt]:
                data = data.replace(TOKEN.encode(), text.encode())
            z.writestr(item, data)
    return buf.getvalue()


def generate(share: Path, n: int, seed: int = 7) -> Counter[str]:
    rng = random.Random(seed)
    tmp = share / "_templates"
    tmp.mkdir(parents=True)
    tpl = templates(tmp)
    pdfs = [samples.make_pdf(tmp / f"p{i}.pdf", [sentence(rng) for _ in range(30)],
                             header=MARKS[i % len(MARKS)] or None).read_bytes() for i in range(20)]
    shutil.rmtree(tmp)
    kinds = [k for k, w in MIX for _ in range(w)]
    counts: Counter[str] = Counter()
    for i in range(n):
        fmt = kinds[i % len(kinds)]
        folder = share / f"dept{i % 20:02d}" / f"sub{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        mark = MARKS[rng.randrange(len(MARKS))]
        path = folder / f"{'機密性２_' if i % 50 == 0 else ''}doc{i:05d}.{fmt}"
        if fmt in tpl:
            path.write_bytes(vary_ooxml(rng.choice(tpl[fmt]), fmt, body(rng, rng.randint(10, 60))))
        elif fmt == "pdf":
            path.write_bytes(rng.choice(pdfs) + f"\n%{i}\n".encode())
        else:
            path.write_text(f"{mark}\n{body(rng, rng.randint(10, 60))}\n", encoding=rng.choice(["utf-8", "cp932"]))
        counts[fmt] += 1
    return counts


def timed_scan(share: Path, inv: Inventory, previous: bool, workers: int = 1) -> tuple[float, int, int, Counter[str]]:
    """(wall seconds, records, rows written, origins); CPU seconds of this process go to LAST_CPU."""
    global LAST_CPU
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    origins: Counter[str] = Counter()
    written = 0
    batch = []
    for rec in scan([share], previous=inv if previous else None, workers=workers):
        n += 1
        origins[rec.origin] += 1
        batch.append(rec)
        if len(batch) >= 500:
            written += inv.upsert(batch)
            batch.clear()
    written += inv.upsert(batch)
    LAST_CPU = time.process_time() - c0
    return time.perf_counter() - t0, n, written, origins


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--dir", type=Path, default=None, help="where to generate (default: a temp dir)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the parallel full scan")
    args = ap.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="leaktrace-bench-"))
    share, state = base / "share", base / "state"
    t0 = time.perf_counter()
    counts = generate(share, args.files)
    gen_s = time.perf_counter() - t0
    files = [p for p in share.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    mb = size / 1e6
    with Inventory(base / "state-parallel") as inv:
        par_s, _, _, _ = timed_scan(share, inv, previous=False, workers=args.workers)
    with Inventory(state) as inv:
        full_s, full_n, _, _ = timed_scan(share, inv, previous=False)
        full_cpu = LAST_CPU
        levels = Counter(r.level or "(none)" for r in inv.all())
        re_s, re_n, re_written, re_origins = timed_scan(share, inv, previous=True)
        rng = random.Random(1)
        changed = rng.sample([p for p in files if p.suffix == ".txt"], k=max(1, len(files) // 20))
        for p in changed:
            p.write_text("機密性３情報\n" + body(rng, 20), encoding="utf-8")
        ch_s, ch_n, ch_written, ch_origins = timed_scan(share, inv, previous=True)
    db_mb = (state / "documents.sqlite").stat().st_size / 1e6
    nf = len(files)
    print("```")
    print(f"command : .venv/bin/python bench/inventory.py --files {args.files}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine : {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}; load avg {load}")
    print(f"data    : {nf} files, {mb:.1f} MB ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))});"
          f" generated in {gen_s:.1f} s")
    print(f"levels  : {', '.join(f'{k} {v}' for k, v in levels.most_common())}")
    print(f"full scan, 1 proc  : {full_n} records in {full_s:.1f} s -> {nf / full_s:.0f} files/s, {mb / full_s:.2f} MB/s"
          f" (CPU {full_cpu:.1f} s -> {nf / full_cpu:.0f} files/s per core)")
    print(f"full scan, {args.workers} procs : {full_n} records in {par_s:.1f} s -> {nf / par_s:.0f} files/s, "
          f"{mb / par_s:.2f} MB/s")
    print(f"re-scan, unchanged : {re_n} records in {re_s:.2f} s -> {nf / re_s:.0f} files/s, {mb / re_s:.0f} MB/s "
          f"({re_origins['unchanged']} unchanged, {re_written} rows written)")
    print(f"re-scan, 5% changed: {ch_n} records in {ch_s:.2f} s -> {nf / ch_s:.0f} files/s "
          f"({ch_origins['extracted']} re-read, {ch_written} rows written)")
    print(f"inventory          : {db_mb:.1f} MB SQLite ({db_mb * 1e6 / max(1, full_n):.0f} bytes/record)")
    print("```")
    if not args.keep and args.dir is None:
        shutil.rmtree(base)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
