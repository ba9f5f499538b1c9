"""Suricata drop rules (IPS mode): IPs by address, domains by DNS query and TLS SNI. Stable sids."""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Sequence
from datetime import datetime

from leaktrace.respond.exports.base import ExportBlocker, ordered
from leaktrace.respond.model import BlockRule

SID_SPAN = 1_000_000


def stable_sid(key: str, base: int) -> int:
    """The same value always gets the same sid: ``base + sha256(key) mod 1e6``."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return base + digest % SID_SPAN


class SuricataExport(ExportBlocker):
    name = "suricata"
    filename = "leaktrace.rules"

    def __init__(self, sid_base: int = 1_000_000) -> None:
        self.sid_base = sid_base

    def templates(self, rule: BlockRule) -> builtins.list[tuple[str, str]]:
        """(sid key, rule text with ``{sid}`` and ``{msg}`` placeholders)."""
        msg, tail = 'msg:"{msg}";', "sid:{sid}; rev:1;"
        if rule.kind == "ip":
            return [
                (f"ip-dst {rule.value}", f"drop ip any any -> {rule.value} any ({msg} {tail})"),
                (f"ip-src {rule.value}", f"drop ip {rule.value} any -> any any ({msg} {tail})"),
            ]
        match = f'dotprefix; content:".{rule.value}"; endswith; nocase;'
        return [
            (f"dns {rule.value}", f"drop dns any any -> any any ({msg} dns.query; {match} {tail})"),
            (f"tls {rule.value}", f"drop tls any any -> any any ({msg} tls.sni; {match} {tail})"),
        ]

    def lines(self, rule: BlockRule, used: set[int] | None = None) -> builtins.list[str]:
        used = used if used is not None else set()
        out = []
        for key, template in self.templates(rule):
            sid = stable_sid(key, self.sid_base)
            while sid in used:  # a collision: the next free sid, deterministic for a given rule set
                sid = self.sid_base + (sid - self.sid_base + 1) % SID_SPAN
            used.add(sid)
            out.append(template.format(sid=sid, msg=f"leaktrace {rule.label}"))
        return out

    def render(self, rules: Sequence[BlockRule], generated: datetime | None = None) -> str:
        out = self.header(generated)
        used: set[int] = set()
        for rule in ordered(rules):
            out.extend(self.lines(rule, used))
        return "\n".join(out) + "\n"
