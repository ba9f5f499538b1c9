"""A DNS Response Policy Zone (BIND, Unbound, PowerDNS, Knot): domains answer NXDOMAIN, and answers that
contain a blocked IP are rewritten too (``rpz-ip`` triggers)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import datetime

from leaktrace.respond.exports.base import ExportBlocker, iso, ordered
from leaktrace.respond.model import BlockRule, utcnow


def rpz_ip_owner(value: str) -> str:
    """``203.0.113.7`` -> ``32.7.113.0.203.rpz-ip``; ``2001:db8::1`` -> ``128.1.zz.db8.2001.rpz-ip``."""
    ip = ipaddress.ip_address(value)
    if ip.version == 4:
        return "32." + ".".join(reversed(str(ip).split("."))) + ".rpz-ip"
    compressed = ip.compressed.replace("::", ":zz:").strip(":")
    return "128." + ".".join(reversed(compressed.split(":"))) + ".rpz-ip"


class RpzExport(ExportBlocker):
    name = "rpz"
    filename = "leaktrace.rpz.zone"
    comment_prefix = ";"

    def lines(self, rule: BlockRule) -> list[str]:
        note = f"; {rule.label}" + (f" until {iso(rule.expires)}" if rule.expires else "")
        if rule.kind == "ip":
            return [note, f"{rpz_ip_owner(rule.value)} CNAME ."]
        return [note, f"{rule.value} CNAME .", f"*.{rule.value} CNAME ."]

    def render(self, rules: Sequence[BlockRule], generated: datetime | None = None) -> str:
        when = generated or utcnow()
        serial = int(when.timestamp()) % 2**32
        out = [
            f"; leaktrace response policy zone, generated {iso(when)}",
            "$TTL 60",
            f"@ IN SOA localhost. hostmaster.localhost. ( {serial} 3600 600 86400 60 )",
            "  IN NS localhost.",
        ]
        for rule in ordered(rules):
            out.extend(self.lines(rule))
        return "\n".join(out) + "\n"
