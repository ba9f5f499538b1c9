"""The response policy: what to do about one incident's server. Pure: no I/O.

* ``refuse``  the server is allowlisted, in ``never_block``, internal, or a special address (loopback ...)
* ``block``   mode ``auto`` and the incident's severity is at least ``auto_min_severity``
* ``ask``     mode ``approve``: a pending action waits for ``leaktrace block --approve ID``
* ``suggest`` mode ``suggest``, or ``auto`` below the severity threshold: recorded, shown, not applied
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from leaktrace.errors import LeaktraceError
from leaktrace.respond.model import BlockTarget, classify, normalize_domain
from leaktrace.respond.settings import SEVERITY_ORDER, RespondConfig

Verdict = Literal["suggest", "ask", "block", "refuse"]


@dataclass(frozen=True)
class Decision:
    action: Verdict
    reason: str


def _domain_matches(domain: str, entry: str) -> bool:
    try:
        base = normalize_domain(entry)
    except LeaktraceError:
        return False
    return domain == base or domain.endswith("." + base)


def protected_reason(value: str, *, allowlist: Sequence[str] = (), never_block: Sequence[str] = (),
                     internal: Sequence[str] = ()) -> str | None:
    """Why ``value`` (an IP or a domain) must never be blocked, or None when it may be."""
    kind, canonical = classify(value)
    lists = (("allowlisted (allowlist.servers)", allowlist), ("in respond.never_block", never_block),
             ("an internal address (network.internal)", internal))
    if kind == "domain":
        for why, entries in lists[:2]:
            if any(_domain_matches(canonical, e) for e in entries):
                return f"{canonical} is {why}"
        return None
    ip = ipaddress.ip_address(canonical)
    if ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_link_local or ip.is_reserved:
        return f"{canonical} is a special address (loopback, link-local, multicast or reserved)"
    for why, entries in lists:
        for entry in entries:
            try:
                net = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            if ip.version == net.version and ip in net:
                return f"{canonical} is {why}: {entry}"
    return None


def check_target(target: BlockTarget, cfg: RespondConfig, *, allowlist: Sequence[str] = (),
                 internal: Sequence[str] = ()) -> str | None:
    """The reason to refuse blocking this target at all, or None."""
    values = target.values()
    if not values:
        return "the incident names no external server (no IP address, no domain)"
    nets = internal if cfg.protect_internal else ()
    for value in values:
        why = protected_reason(value, allowlist=allowlist, never_block=cfg.never_block, internal=nets)
        if why:
            return why
    return None


def decide(target: BlockTarget, cfg: RespondConfig, *, allowlist: Sequence[str] = (),
           internal: Sequence[str] = ()) -> Decision:
    """What to do about a new incident (see the module docstring)."""
    why = check_target(target, cfg, allowlist=allowlist, internal=internal)
    if why:
        return Decision("refuse", f"never blocked: {why}")
    if cfg.mode == "approve":
        return Decision("ask", "policy mode 'approve': an operator must approve the block")
    sev = (target.severity or "").lower()
    level = SEVERITY_ORDER.get(sev, -1)
    if cfg.mode == "auto":
        if level >= SEVERITY_ORDER[cfg.auto_min_severity]:
            return Decision("block", f"policy mode 'auto': severity {sev} >= {cfg.auto_min_severity}")
        return Decision("suggest", f"severity {sev or 'unknown'} below {cfg.auto_min_severity}: suggested only")
    return Decision("suggest", "policy mode 'suggest': block suggested, not applied")
