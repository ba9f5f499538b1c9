"""Fast bulk conn.log writer for benchmarks: a valid Zeek TSV conn.log of exactly ``rows`` rows.

Rows are plausible but simpler than :func:`leaktrace.sim.simulate` (no episodes, no side logs): internal
PCs talking to a Zipf-ranked set of external servers plus DNS to the resolver, spread evenly over one day.
Blocks are generated with numpy, formatted by Arrow's CSV writer, and the next block is generated on a
second thread while the current one is written.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from leaktrace.sim import zeek_writer as zw
from leaktrace.sim.network import MAX_HOSTS, IpPool, host_ip

BLOCK = 1_000_000
DAY_START_US = 1_772_377_200 * 1_000_000  # 2026-03-02 00:00 JST
_SERVICES = ["ssl", "dns", "http", "-"]
_STATES = ["SF", "S0", "RSTO", "SH"]
_HIST = ["ShADadFf", "S", "ShADadR", "ShAF", "Dd", "D", "Dd", "Dd"]


def _block(
    seed: int,
    index: int,
    n: int,
    first_us: int,
    step_us: float,
    ips: pa.Array,
    n_hosts: int,
    server_weights: np.ndarray,
) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 9, index])
    ts = first_us + (np.arange(n) * step_us).astype(np.int64) + rng.integers(0, max(int(step_us), 1), n)
    src = rng.integers(0, n_hosts, n)
    kind = rng.choice(3, n, p=[0.72, 0.23, 0.05])  # ssl, dns, http
    servers = np.minimum(np.searchsorted(server_weights, rng.random(n)), len(server_weights) - 1)
    dst = np.where(kind == 1, n_hosts, n_hosts + 1 + servers)
    udp = kind == 1
    state = np.where(udp, 0, rng.choice(4, n, p=[0.92, 0.03, 0.04, 0.01]))
    dead = state == 1
    ob = np.where(
        dead, 0, np.where(udp, rng.integers(30, 80, n), rng.lognormal(6.9, 0.9, n).astype(np.int64))
    )
    rb = np.where(
        dead, 0, np.where(udp, rng.integers(60, 300, n), rng.lognormal(9.7, 1.7, n).astype(np.int64))
    )
    opk = ob // 1380 + 2
    rpk = np.where(dead, 0, rb // 1380 + 2)
    hdr = np.where(udp, 28, 52)
    dur = np.where(udp, rng.integers(300, 30_000, n), rng.lognormal(13.9, 1.4, n).astype(np.int64))
    return {
        "ts": zw.fmt_micros(ts),
        "uid": zw.make_ids(rng, n, "C"),
        "id.orig_h": zw.take(ips, src),
        "id.orig_p": rng.integers(49152, 65535, n),
        "id.resp_h": zw.take(ips, dst),
        "id.resp_p": np.where(udp, 53, np.where(kind == 2, 80, 443)),
        "proto": zw.take(["tcp", "udp"], udp.astype(np.int64)),
        "service": zw.take(_SERVICES, np.where(dead, 3, kind)),
        "duration": zw.fmt_micros(dur),
        "orig_bytes": ob,
        "resp_bytes": rb,
        "conn_state": zw.take(_STATES, state),
        "local_orig": "T",
        "local_resp": zw.take(["F", "T"], udp.astype(np.int64)),
        "missed_bytes": "0",
        "history": zw.take(_HIST, state + 4 * udp),
        "orig_pkts": opk,
        "orig_ip_bytes": ob + opk * hdr,
        "resp_pkts": rpk,
        "resp_ip_bytes": rb + rpk * hdr,
    }


def write_conn_log(path: Path, rows: int, seed: int = 1, hosts: int = 10000) -> int:
    """Write a Zeek TSV conn.log with exactly ``rows`` data rows spread over one day; returns ``rows``."""
    if rows < 0 or hosts < 1:
        raise ValueError("rows must be >= 0 and hosts >= 1")
    rng = np.random.default_rng([seed, 8])
    n_servers = min(50_000, 2_000 + hosts * 5)
    if hosts > MAX_HOSTS:
        raise ValueError(f"at most {MAX_HOSTS} hosts")
    ips = pa.array([host_ip(i) for i in range(hosts)] + ["10.0.0.53"] + IpPool(rng).take(n_servers))
    weights = np.arange(1, n_servers + 1, dtype=np.float64) ** -1.1
    cdf = np.cumsum(weights) / weights.sum()
    step = 86_400e6 / max(rows, 1)
    starts = list(range(0, rows, BLOCK))
    path = Path(path)
    with zw.ZeekLog(path, "conn", DAY_START_US / 1e6) as log, ThreadPoolExecutor(max_workers=1) as pool:

        def make(i: int) -> dict[str, Any]:
            s = starts[i]
            n = min(BLOCK, rows - s)
            return _block(seed, i, n, DAY_START_US + int(s * step), step, ips, hosts, cdf)

        pending = pool.submit(make, 0) if starts else None
        for i in range(len(starts)):
            assert pending is not None
            cols = pending.result()
            pending = pool.submit(make, i + 1) if i + 1 < len(starts) else None
            log.write(cols)
        log.close(DAY_START_US / 1e6 + 86_400)
    return rows
