"""Two network namespaces joined by a veth pair, created and removed by the tests (never the host's own).

``gw`` plays the gateway where leaktrace runs nft; ``ext`` plays the external server. The veth pair is created
inside ``gw`` with its peer moved straight into ``ext``, so no interface ever appears in the host namespace.
Reusable by the range test (item 4).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

ECHO_SERVER = """
import socket, sys, threading
addr, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); srv.bind((addr, port)); srv.listen(16)
print("ready", flush=True)
def serve(c):
    with c:
        while True:
            data = c.recv(65536)
            if not data:
                return
            c.sendall(data[:16])
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""

CONNECT = """
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])) as s:
        s.sendall(b"ping"); s.recv(16)
except OSError as exc:
    print(type(exc).__name__); sys.exit(1)
"""

# Sends a chunk every 50 ms on one connection and prints the number of chunks echoed before it was cut.
UPLOAD = """
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
s.settimeout(0.5)
print("connected", flush=True)
sent = 0
try:
    for _ in range(int(sys.argv[3])):
        s.sendall(b"x" * 1024); s.recv(16); sent += 1; time.sleep(0.05)
except OSError:
    pass
print(sent, flush=True)
"""


def unavailable_reason() -> str | None:
    """Why the namespace tests cannot run here, or None."""
    if sys.platform != "linux":
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "needs root (network namespaces and nftables)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"`{tool}` not installed (apt-get install iproute2 nftables)"
    probe = f"lt-probe-{secrets.token_hex(3)}"
    done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if done.returncode != 0:
        return f"cannot create a network namespace: {done.stderr.strip()}"
    try:
        nft = subprocess.run(["ip", "netns", "exec", probe, "nft", "list", "tables"], capture_output=True, text=True)
        if nft.returncode != 0:
            return f"nft does not work in a namespace: {nft.stderr.strip()}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=20)


@dataclass
class NetnsPair:
    gw: str
    ext: str
    gw_ip: str
    ext_ip: str
    port: int = 8080
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def exec_prefix(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns]

    def start_server(self) -> None:
        proc = subprocess.Popen(
            [*self.exec_prefix(self.ext), sys.executable, "-c", ECHO_SERVER, self.ext_ip, str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"echo server did not start: {line} {proc.stderr.read() if proc.stderr else ''}")

    def connect(self, timeout: float = 1.0) -> bool:
        """A TCP connect + echo from the gateway namespace to the external server."""
        done = subprocess.run(
            [*self.exec_prefix(self.gw), sys.executable, "-c", CONNECT, self.ext_ip, str(self.port), str(timeout)],
            capture_output=True, text=True, timeout=timeout + 10,
        )
        return done.returncode == 0

    def start_upload(self, chunks: int) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [*self.exec_prefix(self.gw), sys.executable, "-c", UPLOAD, self.ext_ip, str(self.port), str(chunks)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "connected"
        return proc

    def nft(self, *args: str, input: str | None = None) -> str:
        done = subprocess.run([*self.exec_prefix(self.gw), "nft", *args], input=input, capture_output=True,
                              text=True, timeout=20)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return done.stdout


@contextmanager
def netns_pair() -> Iterator[NetnsPair]:
    """Create ``lt-gw-XXXX`` and ``lt-ext-XXXX`` joined by a veth pair in 10.200.N.0/30; always removed."""
    suffix = secrets.token_hex(3)
    net = secrets.randbelow(250) + 1
    pair = NetnsPair(gw=f"lt-gw-{suffix}", ext=f"lt-ext-{suffix}", gw_ip=f"10.200.{net}.1",
                     ext_ip=f"10.200.{net}.2")
    veth_gw, veth_ext = f"ltg{suffix}", f"lte{suffix}"
    created: list[str] = []
    try:
        for ns in (pair.gw, pair.ext):
            sh("ip", "netns", "add", ns)
            created.append(ns)
        sh("ip", "-n", pair.gw, "link", "add", veth_gw, "type", "veth", "peer", "name", veth_ext, "netns", pair.ext)
        for ns, dev, ip in ((pair.gw, veth_gw, pair.gw_ip), (pair.ext, veth_ext, pair.ext_ip)):
            sh("ip", "-n", ns, "addr", "add", f"{ip}/30", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        yield pair
    finally:
        for proc in pair.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=5)
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        for ns in created:
            sh("ip", "netns", "del", ns, check=False)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(ns in sh("ip", "netns", "list").stdout for ns in created):
            time.sleep(0.05)


@contextmanager
def single_netns() -> Iterator[str]:
    """One empty network namespace (``lt-chk-XXXX``), always removed."""
    name = f"lt-chk-{secrets.token_hex(3)}"
    sh("ip", "netns", "add", name)
    try:
        yield name
    finally:
        sh("ip", "netns", "del", name, check=False)
