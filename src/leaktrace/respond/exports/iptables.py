"""``iptables-restore --noflush`` files (one for IPv4, one for IPv6) with a ``LEAKTRACE`` chain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leaktrace.respond.exports.base import ExportBlocker, iso, ordered
from leaktrace.respond.model import BlockRule, utcnow

CHAIN = "LEAKTRACE"


class IptablesExport(ExportBlocker):
    name = "iptables"
    filename = "leaktrace.iptables"
    kinds = ("ip",)
    version = 4
    tool = "iptables"

    def supports(self, rule: BlockRule) -> bool:
        return rule.kind == "ip" and rule.version == self.version

    def lines(self, rule: BlockRule) -> list[str]:
        width = 32 if self.version == 4 else 128
        note = f"leaktrace {rule.label}" + (f" until {iso(rule.expires)}" if rule.expires else "")
        return [
            f'-A {CHAIN} -d {rule.value}/{width} -m comment --comment "{note}" -j DROP',
            f'-A {CHAIN} -s {rule.value}/{width} -m comment --comment "{note}" -j DROP',
        ]

    def render(self, rules: Sequence[BlockRule], generated: datetime | None = None) -> str:
        out = [
            f"# leaktrace blocklist ({self.name}), generated {iso(generated or utcnow())}",
            f"# load: {self.tool}-restore --noflush < {self.filename}",
            f"# once: {self.tool} -I FORWARD -j {CHAIN}; {self.tool} -I OUTPUT -j {CHAIN}",
            "*filter",
            f":{CHAIN} - [0:0]",
            f"-F {CHAIN}",
        ]
        for rule in ordered(rules):
            if self.supports(rule):
                out.extend(self.lines(rule))
        out.append("COMMIT")
        return "\n".join(out) + "\n"


class Ip6tablesExport(IptablesExport):
    name = "ip6tables"
    filename = "leaktrace.ip6tables"
    version = 6
    tool = "ip6tables"
