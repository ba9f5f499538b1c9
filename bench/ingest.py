"""Ingest benchmark: a generated Zeek conn.log of N rows (default 10 million).

Measures, in one run on the same file: leaktrace's end-to-end ingest (parse, validate, normalise, write the
Parquet lake, commit) in rows/s and its peak memory (a child process, so the figure is its own), and DuckDB's
own ``read_csv`` scan of the same file with the same column types, as the reference. Prints a result block
for ``bench/RESULTS.md``.

    .venv/bin/python bench/ingest.py [--rows 10000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from leaktrace.sim.bulk import write_conn_log

CONN_TYPES = {
    "ts": "DOUBLE", "uid": "VARCHAR", "id.orig_h": "VARCHAR", "id.orig_p": "INTEGER", "id.resp_h": "VARCHAR",
    "id.resp_p": "INTEGER", "proto": "VARCHAR", "service": "VARCHAR", "duration": "DOUBLE",
    "orig_bytes": "BIGINT", "resp_bytes": "BIGINT", "conn_state": "VARCHAR", "local_orig": "VARCHAR",
    "local_resp": "VARCHAR", "missed_bytes": "BIGINT", "history": "VARCHAR", "orig_pkts": "BIGINT",
    "orig_ip_bytes": "BIGINT", "resp_pkts": "BIGINT", "resp_ip_bytes": "BIGINT", "tunnel_parents": "VARCHAR",
}


def duckdb_scan(path: Path, header_lines: int) -> tuple[int, float]:
    con = duckdb.connect()
    started = time.perf_counter()
    n = con.sql(
        f"SELECT count(*), sum(orig_bytes), max(ts) FROM read_csv('{path}', delim='\t', header=false, "
        f"skip={header_lines}, quote='', escape='', nullstr='-', columns={CONN_TYPES!r}, "
        "ignore_errors=true, auto_detect=false)"
    ).fetchone()
    return int(n[0]), time.perf_counter() - started  # type: ignore[index]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temp folder)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="lt-bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / "conn.log"
    t0 = time.perf_counter()
    write_conn_log(log, args.rows, seed=1)
    gen_s = time.perf_counter() - t0
    size_mb = log.stat().st_size / 1e6
    header_lines = 0
    with log.open() as f:
        for line in f:
            if not line.startswith("#"):
                break
            header_lines += 1

    ws = work / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    lt = [sys.executable, "-m", "leaktrace"]
    subprocess.run([*lt, "init", "-w", str(ws)], check=True, capture_output=True)
    # warm the page cache the same way for both readers
    duckdb_scan(log, header_lines)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run([*lt, "ingest", "-w", str(ws), str(log), "--json"], check=True,
                         capture_output=True, text=True)
    ingest_s = time.perf_counter() - started
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    rows = json.loads(out.stdout)["rows"]["conn"]
    scan_rows, scan_s = duckdb_scan(log, header_lines)
    assert rows == args.rows == scan_rows, (rows, scan_rows)

    print("### bench/ingest")
    print(f"- command: `.venv/bin/python bench/ingest.py --rows {args.rows}`")
    print(f"- machine: {platform.machine()}, {platform.python_version()}, 2 cores / 24 GB (CI size)")
    print(f"- data: generated Zeek conn.log, {args.rows:,} rows, {size_mb:,.0f} MB (generated in {gen_s:.1f} s)")
    print(f"- leaktrace ingest (process, end to end): {ingest_s:.2f} s = {rows / ingest_s:,.0f} rows/s, "
          f"peak RSS {peak_mb:,.0f} MB")
    print(f"- DuckDB read_csv of the same file (typed scan, count+sum+max): {scan_s:.2f} s = "
          f"{scan_rows / scan_s:,.0f} rows/s")
    print(f"- ratio leaktrace / DuckDB scan: {ingest_s / scan_s:.2f}x")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
