"""``tcpdump`` writing rotating pcap files into a spool folder, optionally inside a network namespace.

``-U`` writes each packet as it arrives (so the open file can be tailed), ``-G`` rotates every N seconds,
``-Z root`` keeps the files writable by us, ``-n`` does no DNS lookups.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from leaktrace.live.loop import SourceFailed

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: tcpdump gets SIGTERM if the watch dies, even by SIGKILL (no orphan capture left behind)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def tcpdump_command(interface: str, spool: Path, rotate_s: int = 5, prefix: Sequence[str] = (),
                     bpf: str = "ip or ip6", snaplen: int = 0, tcpdump: str = "tcpdump") -> list[str]:
    args = [*prefix, tcpdump, "-i", interface, "-n", "-U", "-Z", "root", "-G", str(int(rotate_s)),
            "-w", str(spool / "chunk-%s.pcap")]
    if snaplen:
        args += ["-s", str(snaplen)]
    return [*args, bpf] if bpf else args


class TcpdumpProcess:
    def __init__(self, interface: str, spool: Path, rotate_s: int = 5, prefix: Sequence[str] = (),
                 bpf: str = "ip or ip6", tcpdump: str = "tcpdump") -> None:
        self.cmd = tcpdump_command(interface, spool, rotate_s, prefix, bpf, tcpdump=tcpdump)
        self.binary = tcpdump
        self.spool = spool
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr_path = spool / "tcpdump.stderr"

    def start(self, wait_s: float = 5.0) -> None:
        if shutil.which(self.binary) is None:
            raise SourceFailed("`tcpdump` not found (apt-get install tcpdump)")
        self.spool.mkdir(parents=True, exist_ok=True)
        err = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=err,
                                     preexec_fn=_die_with_parent)
        err.close()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:  # tcpdump prints "listening on ..." once capturing
            if self.proc.poll() is not None:
                raise SourceFailed(f"tcpdump exited: {self.error_text()}")
            if b"listening on" in self.stderr_path.read_bytes():
                return
            time.sleep(0.02)
        raise SourceFailed(f"tcpdump did not start within {wait_s:g} s: {self.error_text()}")

    def error_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace").strip()[-500:]
        except OSError:
            return ""

    def check(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise SourceFailed(f"tcpdump exited with status {self.proc.returncode}: {self.error_text()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()  # tcpdump flushes and closes the file on SIGTERM
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
