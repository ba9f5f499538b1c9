"""The range's network: four namespaces the test creates and always removes (never the host's interfaces).

::

    lt-pc-S  10.77.1.10 (+ office hosts .11–.21) ─┐
                                                 lan  lt-gw-S  wan ── lt-ext-S  10.99.0.2 (exfil server)
    lt-fs-S  10.77.2.20 (file server) ───────────┘   (router, nft,        10.99.0.3 (business server)
                                                      tcpdump on wan)

Every veth is created inside a namespace with its peer created straight in the other one. ``ip_forward`` is
set inside ``lt-gw-S`` only.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = ("ip", "nft", "tcpdump", "openssl")


def unavailable_reason() -> str | None:
    if sys.platform != "linux":
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "needs root (network namespaces, nftables, tcpdump)"
    for tool in TOOLS:
        if shutil.which(tool) is None:
            return f"`{tool}` not installed (apt-get install iproute2 nftables tcpdump openssl)"
    probe = f"lt-probe-{secrets.token_hex(3)}"
    done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if done.returncode != 0:
        return f"cannot create a network namespace: {done.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def sh(*args: str, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done


@dataclass
class Range:
    suffix: str
    work: Path
    pc: str = ""
    fs: str = ""
    gw: str = ""
    ext: str = ""
    pc_ip: str = "10.77.1.10"
    office_ips: list[str] = field(default_factory=lambda: [f"10.77.1.{i}" for i in range(11, 22)])
    fs_ip: str = "10.77.2.20"
    ext_ip: str = "10.99.0.2"
    business_ip: str = "10.99.0.3"
    wan_if: str = ""
    internal: str = "10.77.0.0/16"
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.suffix
        self.pc, self.fs, self.gw, self.ext = f"lt-pc-{s}", f"lt-fs-{s}", f"lt-gw-{s}", f"lt-ext-{s}"
        self.wan_if = f"wan{s}"

    @property
    def namespaces(self) -> list[str]:
        return [self.pc, self.fs, self.gw, self.ext]

    def prefix(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns]

    def start(self, ns: str, *args: str, log: str | None = None) -> subprocess.Popen[str]:
        out = (self.work / log).open("w") if log else subprocess.DEVNULL
        proc = subprocess.Popen([*self.prefix(ns), *args], stdout=out, stderr=subprocess.STDOUT, text=True)
        if log and not isinstance(out, int):
            out.close()
        self.procs.append(proc)
        return proc

    def run(self, ns: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix(ns), *args], capture_output=True, text=True, timeout=timeout)

    def nft(self, *args: str) -> str:
        done = self.run(self.gw, "nft", *args)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return done.stdout

    def can_connect(self, ip: str, port: int, timeout: float = 1.5) -> bool:
        code = (f"import socket; socket.create_connection(({ip!r}, {port}), timeout={timeout}).close()")
        return self.run(self.pc, sys.executable, "-c", code, timeout=timeout + 10).returncode == 0

    def stop_processes(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        self.procs.clear()


def _veth(ns_a: str, name_a: str, ns_b: str, name_b: str) -> None:
    sh("ip", "-n", ns_a, "link", "add", name_a, "type", "veth", "peer", "name", name_b, "netns", ns_b)
    for ns, dev in ((ns_a, name_a), (ns_b, name_b)):
        sh("ip", "-n", ns, "link", "set", dev, "up")


def _build(r: Range) -> None:
    for ns in r.namespaces:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    _veth(r.gw, f"lan{r.suffix}", r.pc, "eth0")
    _veth(r.gw, f"fsl{r.suffix}", r.fs, "eth0")
    _veth(r.gw, r.wan_if, r.ext, "eth0")
    addrs = [(r.gw, f"lan{r.suffix}", "10.77.1.1/24"), (r.gw, f"fsl{r.suffix}", "10.77.2.1/24"),
             (r.gw, r.wan_if, "10.99.0.1/24"), (r.pc, "eth0", f"{r.pc_ip}/24"), (r.fs, "eth0", f"{r.fs_ip}/24"),
             (r.ext, "eth0", f"{r.ext_ip}/24"), (r.ext, "eth0", f"{r.business_ip}/24")]
    addrs += [(r.pc, "eth0", f"{ip}/24") for ip in r.office_ips]
    for ns, dev, cidr in addrs:
        sh("ip", "-n", ns, "addr", "add", cidr, "dev", dev)
    sh("ip", "-n", r.pc, "route", "add", "default", "via", "10.77.1.1")
    sh("ip", "-n", r.fs, "route", "add", "default", "via", "10.77.2.1")
    sh("ip", "-n", r.ext, "route", "add", "10.77.0.0/16", "via", "10.99.0.1")
    sh("ip", "netns", "exec", r.gw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")


@contextmanager
def network_range(work: Path) -> Iterator[Range]:
    """Create the four namespaces and their links; on exit kill every process started and remove them."""
    r = Range(secrets.token_hex(2), work)
    work.mkdir(parents=True, exist_ok=True)
    created: list[str] = []
    try:
        for ns in r.namespaces:
            sh("ip", "netns", "add", ns)
            created.append(ns)
        _build(r)
        yield r
    finally:
        r.stop_processes()
        for ns in created:  # anything still running inside our namespaces (e.g. an orphaned tcpdump)
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                with suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            sh("ip", "netns", "del", ns, check=False)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(ns in sh("ip", "netns", "list").stdout for ns in created):
            time.sleep(0.05)
