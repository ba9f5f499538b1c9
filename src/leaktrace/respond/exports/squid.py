"""Squid ACLs: include the file before the other ``http_access`` lines (``include /path/leaktrace.squid.conf``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leaktrace.respond.exports.base import ExportBlocker, iso, ordered
from leaktrace.respond.model import BlockRule, utcnow

ACL_DOMAIN = "leaktrace_block"
ACL_IP = "leaktrace_block_ip"


class SquidExport(ExportBlocker):
    name = "squid"
    filename = "leaktrace.squid.conf"

    def lines(self, rule: BlockRule) -> list[str]:
        if rule.kind == "ip":
            return [f"acl {ACL_IP} dst {rule.value}"]
        return [f"acl {ACL_DOMAIN} dstdomain .{rule.value}"]

    def render(self, rules: Sequence[BlockRule], generated: datetime | None = None) -> str:
        out = [f"# leaktrace blocklist (squid), generated {iso(generated or utcnow())}"]
        chosen = ordered(rules)
        for rule in chosen:
            out.append(f"# {rule.label}" + (f" until {iso(rule.expires)}" if rule.expires else ""))
            out.extend(self.lines(rule))
        if any(r.kind == "domain" for r in chosen):
            out.append(f"http_access deny {ACL_DOMAIN}")
        if any(r.kind == "ip" for r in chosen):
            out.append(f"http_access deny {ACL_IP}")
        return "\n".join(out) + "\n"
