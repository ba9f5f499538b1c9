"""Windows Firewall (PowerShell, run elevated): the script replaces every rule of the ``leaktrace`` group."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leaktrace.respond.exports.base import ExportBlocker, iso, ordered
from leaktrace.respond.model import BlockRule, utcnow

GROUP = "leaktrace"


def ps_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class WindowsExport(ExportBlocker):
    name = "windows"
    filename = "leaktrace-firewall.ps1"

    def lines(self, rule: BlockRule) -> list[str]:
        if rule.kind != "ip":
            return [f"# {rule.value}: Windows Firewall cannot block a domain; use the rpz or squid export"]
        until = f" until {iso(rule.expires)}" if rule.expires else ""
        out = []
        for direction in ("Outbound", "Inbound"):
            name = ps_quote(f"leaktrace {rule.label} {rule.value} {direction.lower()}")
            out.append(
                f"New-NetFirewallRule -DisplayName {name} -Group {ps_quote(GROUP)} -Direction {direction} "
                f"-RemoteAddress {rule.value} -Action Block -Profile Any "
                f"-Description {ps_quote('leaktrace ' + rule.label + until)} | Out-Null"
            )
        return out

    def render(self, rules: Sequence[BlockRule], generated: datetime | None = None) -> str:
        out = [
            f"# leaktrace blocklist (Windows Firewall), generated {iso(generated or utcnow())}",
            "# Run in an elevated PowerShell; replaces all rules of the group 'leaktrace'.",
            "#Requires -RunAsAdministrator",
            f"Get-NetFirewallRule -Group {ps_quote(GROUP)} -ErrorAction SilentlyContinue | Remove-NetFirewallRule",
        ]
        for rule in ordered(rules):
            out.extend(self.lines(rule))
        return "\n".join(out) + "\n"
