"""Benchmark `analyze`: simulate N hosts for one day; ingest all but the last hour → full analysis; ingest the
last hour → incremental analysis.

Prints analysis time, conn rows/s, peak RSS (psutil, sampled every 50 ms) and the machine load. The data are
built once; each measured run starts from a copy of the ingested workspace in a fresh child process, so runs
do not share caches, imports or memory. With ``--baseline SRC`` the same runs are repeated with the code under
``SRC`` (e.g. ``git archive HEAD src | tar -x -C /tmp/before``), interleaved with the current code, so the
before/after ratio is measured on the same data under the same load. Usage:

    .venv/bin/python bench/analyze.py --hosts 1000 [--baseline /tmp/before/src] [--repeat 2] [--out DIR]
                                      [--web-rate 370]

``--keep`` keeps the generated data in ``--out``; a later ``--reuse`` run measures on it again.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil


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
    """Copy each Zeek TSV log of ``day`` into ``head`` (records before the last hour of the day) and ``tail``
    (the rest). The cut is one time for all logs: the latest record of any log minus one hour."""
    logs = sorted(day.rglob("*.log"))
    latest = 0.0
    for log in logs:
        with log.open(encoding="utf-8", errors="replace") as fh:
            for ln in fh:
                if ln and not ln.startswith("#") and ln.strip():
                    latest = max(latest, float(ln.split("\t", 1)[0]))
    cut = latest - 3600
    for log in logs:
        outs = []
        for folder in (head, tail):
            out = folder / log.relative_to(day)
            out.parent.mkdir(parents=True, exist_ok=True)
            outs.append(out.open("w", encoding="utf-8"))
        with log.open(encoding="utf-8", errors="replace") as fh:
            for ln in fh:
                if ln.startswith("#"):
                    outs[0].write(ln)
                    outs[1].write(ln)
                elif ln.strip():
                    outs[float(ln.split("\t", 1)[0]) >= cut].write(ln)
        for o in outs:
            o.close()


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu() -> float:
    """CPU seconds (user + system, all threads) of this process: steadier than wall time on a shared machine."""
    t = psutil.Process().cpu_times()
    return t.user + t.system


def measure(ws_dir: Path, tail: Path) -> dict[str, Any]:
    """In this process: full analysis, ingest the last hour, incremental analysis."""
    from leaktrace.incidents import analyze
    from leaktrace.ingest import ingest_paths
    from leaktrace.lake import Lake
    from leaktrace.workspace import Workspace

    def timed(prefix: str) -> Any:
        """One analysis: wall and CPU seconds and peak RSS under ``prefix``_s/_cpu/_rss_mib."""
        with PeakRss() as mem:
            t0, c0 = time.perf_counter(), cpu()
            result = analyze(ws)
            res[f"{prefix}_s"], res[f"{prefix}_cpu"] = time.perf_counter() - t0, cpu() - c0
        res[f"{prefix}_rss_mib"] = mem.peak / 2**20
        return result

    ws = Workspace.open(ws_dir)
    rows = Lake(ws.lake_dir).row_counts(ws.tenant).get("conn", 0)
    res: dict[str, Any] = {"conn_rows": rows, "load_before": load()}
    full = timed("full")
    res["timings"] = full.timings
    res["findings"] = full.findings
    sev: dict[str, int] = {}
    for i in full.incidents:
        sev[i.severity] = sev.get(i.severity, 0) + 1
    res["incidents"] = sev
    ingest_paths(ws, [tail])
    res["new_rows"] = Lake(ws.lake_dir).row_counts(ws.tenant).get("conn", 0) - rows
    inc = timed("inc")
    res["inc_mode"] = inc.mode
    res["inc_since"] = str(inc.since)
    res["inc_timings"] = inc.timings
    res["load_after"] = load()
    return res


def child(src: Path | None, ws: Path, tail: Path) -> dict[str, Any]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, __file__, "--child", str(ws), str(tail)]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def report(label: str, r: dict[str, Any]) -> None:
    print(
        f"[{label}] full {r['conn_rows']:,} conn rows in {r['full_s']:.2f} s -> "
        f"{r['conn_rows'] / r['full_s']:,.0f} rows/s (CPU {r['full_cpu']:.1f} s), peak RSS {r['full_rss_mib']:,.0f} MiB; "
        f"incremental +{r['new_rows']:,} rows in {r['inc_s']:.2f} s ({100 * r['inc_s'] / r['full_s']:.0f} % of full; "
        f"CPU {r['inc_cpu']:.1f} s), "
        f"peak RSS {r['inc_rss_mib']:,.0f} MiB; load {r['load_before']} -> {r['load_after']}"
    )
    print(f"    detectors (full) {r['timings']}")
    print(f"    detectors (incr) {r['inc_timings']}")
    print(f"    findings {r['findings']}, incidents {r['incidents']}")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(measure(Path(sys.argv[2]), Path(sys.argv[3]))))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--web-rate",
        type=float,
        default=None,
        help="the simulator's web flows per host and hour at full activity (default 70: ≈ 1,400 conn rows per "
        "host and day; 370 gives ≈ 5,000, the issue's ≈ 50 M rows at 10,000 hosts)",
    )
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-analyze"))
    ap.add_argument("--baseline", type=Path, default=None, help="src/ folder of the code to compare with")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the generated data (default: deleted)")
    ap.add_argument("--reuse", action="store_true", help="use the data kept in --out by an earlier --keep run")
    a = ap.parse_args()
    from leaktrace.ingest import ingest_paths
    from leaktrace.sim import simulate
    from leaktrace.sim.config import SimulationConfig
    from leaktrace.workspace import Workspace

    t0 = time.perf_counter()
    if not (a.reuse and (a.out / "ws0").is_dir() and (a.out / "tail").is_dir()):
        shutil.rmtree(a.out, ignore_errors=True)
        cfg = SimulationConfig(hosts=a.hosts, days=1, seed=a.seed)
        if a.web_rate is not None:
            cfg = dataclasses.replace(cfg, web_flows_per_host_hour=a.web_rate)
        simulate(a.out / "scen", config=cfg)
        day = sorted(p for p in (a.out / "scen" / "zeek").iterdir() if p.is_dir())[0]
        split_last_hour(day, a.out / "head", a.out / "tail")
        shutil.rmtree(a.out / "scen")
        ws = Workspace.init(a.out / "ws0", internal=["10.0.0.0/8"], tenant="ministry")
        ingest_paths(ws, [a.out / "head"])
        shutil.rmtree(a.out / "head")
    print("== bench/analyze ==")
    rate = f", web rate {a.web_rate:g}" if a.web_rate is not None else ""
    print(f"hosts {a.hosts} (1 simulated day, seed {a.seed}{rate}; setup {time.perf_counter() - t0:.1f} s)")
    print(f"command: {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB; load {load()}")
    runs = [("current", None)] + ([("baseline", a.baseline)] if a.baseline else [])
    results: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in runs}
    for _ in range(a.repeat):
        for label, src in runs:
            work = a.out / f"ws-{label}"
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(a.out / "ws0", work)
            os.sync()  # the copy written out before the measured runs, not while they run
            r = child(src, work, a.out / "tail")
            shutil.rmtree(work, ignore_errors=True)
            results[label].append(r)
            report(label, r)
    if a.baseline:
        cur = min(results["current"], key=lambda r: r["full_s"])
        base = min(results["baseline"], key=lambda r: r["full_s"])
        print(
            f"best of {a.repeat}: full {base['full_s']:.2f} s -> {cur['full_s']:.2f} s "
            f"({base['full_s'] / cur['full_s']:.2f}x); incremental {min(r['inc_s'] for r in results['baseline']):.2f} s -> "
            f"{min(r['inc_s'] for r in results['current']):.2f} s; CPU full {base['full_cpu']:.1f} s -> "
            f"{cur['full_cpu']:.1f} s"
        )
    if not a.keep:
        shutil.rmtree(a.out, ignore_errors=True)


if __name__ == "__main__":
    main()
