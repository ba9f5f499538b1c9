"""Live containment benchmark: time from the first exfiltration byte to the block rule being active.

Runs the range of ``tests/range`` (four network namespaces created and removed here: PC, file server,
gateway, external server; real HTTPS traffic) ``--runs`` times. In each run ``leaktrace watch`` captures on the
gateway's WAN interface with tcpdump, re-analyses every ``--interval`` seconds and blocks automatically under
``[respond] mode = "auto"``. Measured per run, on the host's clock:

* first byte: when the external server received the first byte of the upload body (it records the time);
* block active: when ``nft -j list set inet leaktrace blocked_v4`` in the gateway first lists the server
  (polled every 50 ms by this script, independently of leaktrace);
* the bytes the server received out of the full upload.

Needs root, ``ip``, ``nft``, ``tcpdump`` and ``openssl``. Prints a Markdown block for ``bench/RESULTS.md``.

    sudo .venv/bin/python bench/live.py [--runs 5] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from tests.range.scenario import Params, make_workspace, run_scenario  # noqa: E402
from tests.range.topology import network_range, unavailable_reason  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--interval", type=float, default=1.0, help="watch micro-batch interval (s)")
    ap.add_argument("--beacon", type=float, default=20.0, help="seconds of beaconing before the upload")
    args = ap.parse_args()
    why = unavailable_reason()
    if why:
        print(f"bench/live: cannot run: {why}", file=sys.stderr)
        return 2
    params = Params(beacon_s=args.beacon, interval=args.interval)
    times: list[float] = []
    shares: list[float] = []
    misses = 0
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="lt-bench-live-") as tmp, network_range(Path(tmp) / "net") as r:
            ws = make_workspace(r, Path(tmp) / "ws")
            out = run_scenario(r, ws, params)
        t = out.time_to_block
        share = out.received / out.total if out.total else 0.0
        print(f"run {i + 1}: first byte → block {'-' if t is None else f'{t:.2f} s'}; server got "
              f"{out.received / 1e6:.2f} of {out.total / 1e6:.1f} MB ({share:.0%})", flush=True)
        if t is None:
            misses += 1
        else:
            times.append(t)
            shares.append(share)
    cpu = os.cpu_count()
    print()
    print("### bench/live — first exfiltration byte → block rule active (range, real traffic)")
    print()
    print(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {platform.machine()}, "
          f"{cpu} cores, Python {platform.python_version()}; watch interval {args.interval:g} s, tcpdump "
          "spool tailed every micro-batch")
    print(f"- scenario: {params.docs} documents × {params.doc_bytes / 1e6:.1f} MB uploaded over HTTPS in "
          f"{params.piece // 1024} KB pieces (≈{params.piece / params.pause / 1e6:.1f} MB/s) after "
          f"{params.beacon_s:g} s of 1 s ± 30 % beacons; 11 office hosts using a shared server; default "
          "detector thresholds; `[respond] mode = \"auto\"`, `auto_min_severity = \"high\"`")
    if times:
        print(f"- runs: {args.runs} ({misses} without a block); time to block: median **{statistics.median(times):.2f} s** "
              f"(min {min(times):.2f}, max {max(times):.2f}); aim < 5 s")
        print(f"- share of the upload that reached the server before the block: median "
              f"{statistics.median(shares):.0%} (min {min(shares):.0%}, max {max(shares):.0%})")
    else:
        print(f"- runs: {args.runs}; no run ended in a block")
    return 0 if times and not misses else 1


if __name__ == "__main__":
    raise SystemExit(main())
