"""What every export-only blocker shares: ``apply`` renders, the state lives in the action store."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from leaktrace.respond.model import AppliedRule, BlockRule, utcnow


def iso(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt else ""


class ExportBlocker:
    """Base of export-only backends: subclasses implement :meth:`lines` (and may override :meth:`render`)."""

    name = "export"
    enforcing = False
    filename = "blocklist.txt"
    kinds: tuple[str, ...] = ("ip", "domain")
    comment_prefix = "#"

    def supports(self, rule: BlockRule) -> bool:
        return rule.kind in self.kinds

    def describe(self, rule: BlockRule, now: datetime | None = None) -> str:
        return "\n".join(self.lines(rule))

    def apply(self, rule: BlockRule, now: datetime | None = None) -> AppliedRule:
        return AppliedRule(
            backend=self.name, value=rule.value, kind=rule.kind, text=self.describe(rule, now),
            enforced=False, comment=rule.label,
        )

    def remove(self, rule: BlockRule) -> None:
        """Nothing to do: the next rendering of the file leaves the rule out."""

    def list(self) -> list[AppliedRule]:
        return []

    def lines(self, rule: BlockRule) -> builtins.list[str]:
        raise NotImplementedError

    def header(self, generated: datetime | None) -> builtins.list[str]:
        c = self.comment_prefix
        return [f"{c} leaktrace blocklist ({self.name}), generated {iso(generated or utcnow())}"]

    def render(self, rules: Sequence[BlockRule], generated: datetime | None = None) -> str:
        out = self.header(generated)
        for rule in ordered(rules):
            if self.supports(rule):
                out.extend(self.lines(rule))
        return "\n".join(out) + "\n"


def ordered(rules: Sequence[BlockRule]) -> list[BlockRule]:
    """Deterministic order: IPs (v4 then v6) then domains, each sorted."""
    return sorted(rules, key=lambda r: (r.kind != "ip", r.version or 0, r.value))
