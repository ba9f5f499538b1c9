"""Running a command (``nft``), optionally under a prefix such as ``ip netns exec gw``."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Sequence
from typing import Protocol

from leaktrace.respond.errors import BlockError


class CommandRunner(Protocol):
    """Runs one command and returns its standard output; raises :class:`BlockError` on failure."""

    def run(self, args: Sequence[str], input: str | None = None) -> str: ...


class SubprocessRunner:
    """The real runner: ``prefix + args`` through :mod:`subprocess`, never through a shell."""

    def __init__(self, prefix: Sequence[str] = (), timeout_s: float = 10.0) -> None:
        self.prefix = list(prefix)
        self.timeout_s = timeout_s

    def run(self, args: Sequence[str], input: str | None = None) -> str:
        cmd = [*self.prefix, *args]
        shown = shlex.join(cmd)
        try:
            done = subprocess.run(
                cmd, input=input, capture_output=True, text=True, timeout=self.timeout_s, check=False
            )
        except FileNotFoundError:
            raise BlockError(f"`{cmd[0]}` not found (install it, e.g. apt-get install nftables)") from None
        except subprocess.TimeoutExpired:
            raise BlockError(f"`{shown}` did not finish within {self.timeout_s:g} s") from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            first = " ".join(line.strip() for line in detail[:3]) or f"exit status {done.returncode}"
            raise BlockError(f"`{shown}` failed: {first}")
        return done.stdout
