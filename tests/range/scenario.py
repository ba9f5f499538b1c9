"""The range scenario, shared by ``tests/range/test_range.py`` and ``bench/live.py``.

A compromised PC fetches documents from the file server, beacons to an external server over HTTPS, then
uploads the documents there over HTTPS in pieces, while eleven office hosts use a shared business server.
``leaktrace watch`` captures on the gateway's WAN interface and blocks automatically under the workspace's
``[respond]`` policy. Detector thresholds are leaktrace's defaults; the range has 12 internal hosts, enough
(≥ ``min_population``) for prevalence to be judged rather than assumed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .programs import HTTPS_SERVER, IMPLANT, OFFICE
from .topology import Range

REPO = Path(__file__).resolve().parents[2]
SNI = "sync.cloudfiles-cdn.net"
BUSINESS_SNI = "portal.partner-agency.jp"


@dataclass
class Params:
    docs: int = 20
    doc_bytes: int = 600_000
    beacon_s: float = 20.0
    piece: int = 128 * 1024
    pause: float = 0.1  # ≈1.2 MB/s: a throttled exfil tool
    interval: float = 1.0


@dataclass
class Outcome:
    total: int = 0
    received: int = 0
    first_byte_at: float | None = None
    blocked_at: float | None = None
    implant: list[dict[str, Any]] = field(default_factory=list)
    watch_log: str = ""

    @property
    def time_to_block(self) -> float | None:
        if self.first_byte_at is None or self.blocked_at is None:
            return None
        return self.blocked_at - self.first_byte_at


CONFIG = """
[network]
internal = ["{internal}"]

[ingest]
default_tenant = "default"
sensor = "gw"

[[tenants]]
name = "default"

[respond]
mode = "auto"
auto_min_severity = "high"
backends = ["nftables", "csv"]
default_expire = "1h"

[respond.nftables]
prefix = ["ip", "netns", "exec", "{gw}"]
hooks = ["forward", "output"]
"""


def make_workspace(r: Range, root: Path) -> Path:
    from leaktrace.workspace import Workspace

    root.mkdir(parents=True, exist_ok=True)
    (root / "leaktrace.toml").write_text(CONFIG.format(internal=r.internal, gw=r.gw), encoding="utf-8")
    Workspace.open(root)
    return root


def start_servers(r: Range, p: Params) -> Path:
    """HTTPS server (self-signed cert made here) in lt-ext, HTTP file server with the documents in lt-fs."""
    cert, key = r.work / "cert.pem", r.work / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", f"/CN={SNI}"], check=True, capture_output=True, timeout=60)
    count = r.work / "received"
    srv = r.start(r.ext, sys.executable, "-c", HTTPS_SERVER, str(cert), str(key), str(count), log="ext.log")
    docs = r.work / "share"
    docs.mkdir(exist_ok=True)
    for i in range(p.docs):
        (docs / f"doc{i:02d}.docx").write_bytes(os.urandom(p.doc_bytes))
    r.start(r.fs, sys.executable, "-m", "http.server", "8000", "--bind", r.fs_ip, "--directory", str(docs),
            log="fs.log")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if "ready" in (r.work / "ext.log").read_text() and r.can_connect(r.fs_ip, 8000, 0.5):
            return count
        if srv.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"servers did not start: {(r.work / 'ext.log').read_text()}")


def start_watch(r: Range, ws: Path, p: Params) -> subprocess.Popen[str]:
    log = (r.work / "watch.log").open("w")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LEAKTRACE_USER": "range-test"}
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "import leaktrace.cli.live_cmds; from leaktrace.cli import main; main()", "watch", "-w", str(ws), "--interface", r.wan_if,
         "--netns", r.gw, "--interval", str(p.interval), "--verbose"],
        stdout=log, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO,
    )
    log.close()
    r.procs.append(proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "watching" in (r.work / "watch.log").read_text():
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"watch did not start: {(r.work / 'watch.log').read_text()}")


def blocked(r: Range, ip: str) -> bool:
    try:
        raw = json.loads(r.nft("-j", "list", "set", "inet", "leaktrace", "blocked_v4"))
    except (RuntimeError, ValueError):
        return False
    for item in raw.get("nftables", []):
        for elem in item.get("set", {}).get("elem", []) or []:
            val = elem.get("elem", {}).get("val") if isinstance(elem, dict) else elem
            if val == ip:
                return True
    return False


def run_scenario(r: Range, ws: Path, p: Params) -> Outcome:
    """Run the whole attack with ``watch`` running; returns what the server got and when the block came."""
    count = start_servers(r, p)
    watch = start_watch(r, ws, p)
    out = Outcome(total=p.docs * p.doc_bytes)
    office_s = p.beacon_s + 15
    r.start(r.pc, sys.executable, "-c", OFFICE, r.business_ip, BUSINESS_SNI, str(office_s), *r.office_ips,
            log="office.log")
    implant = r.start(r.pc, sys.executable, "-c", IMPLANT, f"http://{r.fs_ip}:8000", r.ext_ip, SNI,
                      str(p.docs), str(p.beacon_s), str(p.piece), str(p.pause), log="implant.log")
    first = r.work / "received.first"
    deadline = time.monotonic() + p.beacon_s + 120
    while time.monotonic() < deadline and implant.poll() is None:
        if out.first_byte_at is None and first.exists():
            text = first.read_text().strip()
            out.first_byte_at = float(text) if text else None  # when the server got the first upload byte
        if out.blocked_at is None and out.first_byte_at is not None and blocked(r, r.ext_ip):
            out.blocked_at = time.time()
        time.sleep(0.05)
    if implant.poll() is None:
        implant.kill()
    time.sleep(1.5)  # let watch finish the last micro-batch
    watch.send_signal(signal.SIGINT)
    try:
        watch.wait(timeout=30)
    except subprocess.TimeoutExpired:
        watch.kill()
    out.received = int(count.read_text()) if count.exists() else 0
    out.implant = [json.loads(line) for line in (r.work / "implant.log").read_text().splitlines()
                   if line.startswith("{")]
    out.watch_log = (r.work / "watch.log").read_text()
    return out
