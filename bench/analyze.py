"""Benchmark `analyze`: simulate N hosts for one day; ingest all but the last hour → full analysis; ingest the
last hour → incremental analysis.

Prints analysis time, conn rows/s and peak RSS (psutil, sampled). Usage:
    .venv/bin/python bench/analyze.py --hosts 300 [--out /tmp/bench-analyze]
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from pathlib import Path

import psutil

from leaktrace.incidents import analyze
from leaktrace.ingest import ingest_paths
from leaktrace.lake import Lake
from leaktrace.sim import simulate
from leaktrace.workspace import Workspace


class PeakRss:
    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, proc.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def split_last_hour(day: Path, head: Path, tail: Path) -> None:
    """Copy each Zeek TSV log of ``day`` into ``head`` (records before the last hour) and ``tail`` (the rest)."""
    for log in sorted(day.rglob("*.log")):
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        header = [ln for ln in lines if ln.startswith("#")]
        recs = [ln for ln in lines if not ln.startswith("#") and ln.strip()]
        if not recs:
            continue
        stamps = [float(r.split("\t", 1)[0]) for r in recs]
        cut = max(stamps) - 3600
        for folder, part in (
            (head, [r for r, t in zip(recs, stamps, strict=True) if t < cut]),
            (tail, [r for r, t in zip(recs, stamps, strict=True) if t >= cut]),
        ):
            out = folder / log.relative_to(day)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("".join(header + part), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-analyze"))
    a = ap.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    t0 = time.perf_counter()
    simulate(a.out / "scen", hosts=a.hosts, days=1, seed=a.seed)
    day = sorted(p for p in (a.out / "scen" / "zeek").iterdir() if p.is_dir())[0]
    split_last_hour(day, a.out / "head", a.out / "tail")
    ws = Workspace.init(a.out / "ws", internal=["10.0.0.0/8"], tenant="ministry")
    ingest_paths(ws, [a.out / "head"])
    t_sim = time.perf_counter() - t0
    conn_rows = Lake(ws.lake_dir).row_counts("ministry").get("conn", 0)
    with PeakRss() as mem:
        t1 = time.perf_counter()
        full = analyze(ws)
        t_full = time.perf_counter() - t1
    ingest_paths(ws, [a.out / "tail"])
    conn_rows2 = Lake(ws.lake_dir).row_counts("ministry").get("conn", 0)
    with PeakRss() as mem2:
        t2 = time.perf_counter()
        inc = analyze(ws)
        t_inc = time.perf_counter() - t2
    print("== bench/analyze ==")
    print(f"hosts                {a.hosts} (1 simulated day; setup {t_sim:.1f} s)")
    print(
        f"full analysis        {conn_rows:,} conn rows in {t_full:.2f} s -> {conn_rows / t_full:,.0f} conn rows/s"
    )
    print(f"  per detector       {full.timings}")
    print(f"  peak RSS           {mem.peak / 2**20:,.0f} MiB; incidents {len(full.incidents)}")
    print(
        f"incremental (+1 hour) {conn_rows2 - conn_rows:,} new conn rows ({conn_rows2:,} total) in {t_inc:.2f} s "
        f"({inc.mode}, since {inc.since}); {100 * t_inc / t_full:.0f}% of the full run; peak RSS "
        f"{mem2.peak / 2**20:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
