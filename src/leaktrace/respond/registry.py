"""The blocker interface and its registry. Built-ins register themselves in :mod:`leaktrace.respond.backends`.

A blocker either *enforces* (nftables: ``apply`` changes the kernel) or *exports* (iptables, Suricata, RPZ,
Squid, Windows, CSV/JSON): ``apply`` only renders the rule text, and the file written by ``render`` over all
active rules is what a gateway, DNS server or proxy consumes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from leaktrace.registry import Registry
from leaktrace.respond.model import AppliedRule, BlockRule
from leaktrace.respond.runner import CommandRunner
from leaktrace.respond.settings import RespondConfig


@runtime_checkable
class Blocker(Protocol):
    """One place where a block can be applied (or exported)."""

    name: str
    enforcing: bool
    filename: str

    def supports(self, rule: BlockRule) -> bool:
        """Whether this backend can block this kind of value (nftables cannot block a domain)."""
        ...

    def describe(self, rule: BlockRule, now: datetime | None = None) -> str:
        """The rule text this backend would apply for ``rule`` (no side effect; ``--dry-run``, audit)."""
        ...

    def apply(self, rule: BlockRule, now: datetime | None = None) -> AppliedRule: ...

    def remove(self, rule: BlockRule) -> None: ...

    def list(self) -> list[AppliedRule]:
        """What the backend itself reports as blocked (export-only backends hold no state: empty)."""
        ...

    def render(self, rules: Sequence[BlockRule], generated: datetime | None = None) -> str:
        """The whole blocklist in this backend's format."""
        ...


BlockerFactory = Callable[[RespondConfig, CommandRunner | None], Blocker]

blockers: Registry[BlockerFactory] = Registry("blocker")


def make_blocker(name: str, settings: RespondConfig, runner: CommandRunner | None = None) -> Blocker:
    """Build the registered blocker ``name``; ``runner`` replaces how nftables runs ``nft`` (test twin)."""
    import leaktrace.respond.backends  # noqa: F401  (registers the built-ins)

    return blockers.get(name)(settings, runner)
