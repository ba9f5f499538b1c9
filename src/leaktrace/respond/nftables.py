"""The enforcing backend: an nftables table with address sets whose elements expire in the kernel.

Layout (``inet leaktrace`` by default)::

    set blocked_v4 { type ipv4_addr; flags timeout; }      set blocked_v6 { type ipv6_addr; flags timeout; }
    chain output  { hook output  ... ip daddr @blocked_v4 drop ... }
    chain forward { hook forward ... ip daddr @blocked_v4 drop; ip saddr @blocked_v4 drop ... }
    chain input   { hook input   ... ip saddr @blocked_v4 drop ... }      (optional)

Every change is one ``nft -f -`` script, so it is atomic. Adding replaces an existing element (new timeout and
comment) with ``add``/``delete``/``add`` in one transaction; removing uses ``add``/``delete`` so that removing an
element the kernel already expired is not an error. The table itself is created idempotently with the first
change (``add`` table/sets/chains, ``flush chain``, ``add rule``), which keeps the set elements.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from leaktrace.respond.errors import BlockError
from leaktrace.respond.exports.base import ordered
from leaktrace.respond.model import AppliedRule, BlockRule, format_duration, safe_comment, utcnow
from leaktrace.respond.runner import CommandRunner, SubprocessRunner
from leaktrace.respond.settings import NftablesSettings, RespondConfig

SETS = {4: "blocked_v4", 6: "blocked_v6"}
_ADDR_TYPE = {4: "ipv4_addr", 6: "ipv6_addr"}
_MATCH = {4: "ip", 6: "ip6"}
_DIRECTIONS = {"output": ("daddr",), "forward": ("daddr", "saddr"), "input": ("saddr",)}


class NftablesBlocker:
    """Blocks IP addresses in an nftables set on this machine (or in a namespace through the runner prefix)."""

    name = "nftables"
    enforcing = True
    filename = "leaktrace.nft"

    def __init__(self, settings: NftablesSettings | None = None, runner: CommandRunner | None = None) -> None:
        self.settings = settings or NftablesSettings()
        self.runner: CommandRunner = runner or SubprocessRunner(self.settings.prefix, self.settings.timeout_s)
        self._ready = False

    @classmethod
    def from_config(cls, cfg: RespondConfig, runner: CommandRunner | None = None) -> NftablesBlocker:
        return cls(cfg.nftables, runner)

    # -- scripts ---------------------------------------------------------------------------------------------
    @property
    def table(self) -> str:
        return f"inet {self.settings.table}"

    def setup_script(self) -> str:
        """Create (or repair) the table, sets, chains and rules; existing set elements are kept."""
        s = self.settings
        verdict = "reject" if s.verdict == "reject" else "drop"
        lines = [f"add table {self.table}"]
        for version, set_name in SETS.items():
            lines.append(f"add set {self.table} {set_name} {{ type {_ADDR_TYPE[version]}; flags timeout; }}")
        for hook in s.hooks:
            lines.append(
                f"add chain {self.table} {hook} {{ type filter hook {hook} priority {s.priority}; policy accept; }}"
            )
            lines.append(f"flush chain {self.table} {hook}")
            for direction in _DIRECTIONS[hook]:
                for version, set_name in SETS.items():
                    lines.append(
                        f"add rule {self.table} {hook} {_MATCH[version]} {direction} @{set_name} counter {verdict}"
                    )
        return "\n".join(lines) + "\n"

    def element(self, rule: BlockRule, now: datetime | None = None) -> str:
        """``{ 203.0.113.7 timeout 7d comment "INC-0001" }`` for one rule."""
        parts = [rule.value]
        timeout = rule.timeout_seconds(now or utcnow())
        if timeout is not None:
            parts.append(f"timeout {format_duration(timeout)}")
        if rule.label:
            parts.append(f'comment "{safe_comment(rule.label, 120)}"')
        return "{ " + " ".join(parts) + " }"

    def add_line(self, rule: BlockRule, now: datetime | None = None) -> str:
        return f"add element {self.table} {self._set(rule)} {self.element(rule, now)}"

    def add_script(self, rule: BlockRule, now: datetime | None = None) -> str:
        """Add or replace one element, atomically."""
        bare = f"{self._set(rule)} {{ {rule.value} }}"
        return (
            f"add element {self.table} {bare}\n"
            f"delete element {self.table} {bare}\n"
            f"{self.add_line(rule, now)}\n"
        )

    def remove_script(self, rule: BlockRule) -> str:
        """Remove one element; no error when it is already gone (expired)."""
        bare = f"{self._set(rule)} {{ {rule.value} }}"
        return f"add element {self.table} {bare}\ndelete element {self.table} {bare}\n"

    def _set(self, rule: BlockRule) -> str:
        if rule.kind != "ip" or rule.version is None:
            raise BlockError(f"nftables blocks IP addresses only, not the domain '{rule.value}'")
        return SETS[rule.version]

    # -- blocker interface -----------------------------------------------------------------------------------
    def supports(self, rule: BlockRule) -> bool:
        return rule.kind == "ip"

    def describe(self, rule: BlockRule, now: datetime | None = None) -> str:
        return self.add_line(rule, now)

    def apply(self, rule: BlockRule, now: datetime | None = None) -> AppliedRule:
        script = self.add_script(rule, now)
        self._run_script(script)
        return AppliedRule(
            backend=self.name, value=rule.value, kind=rule.kind, text=self.add_line(rule, now), enforced=True,
            expires_in=rule.timeout_seconds(now or utcnow()), comment=rule.label,
        )

    def remove(self, rule: BlockRule) -> None:
        self._run_script(self.remove_script(rule))

    def list(self) -> list[AppliedRule]:
        out: list[AppliedRule] = []
        for set_name in SETS.values():
            try:
                text = self.runner.run([self.settings.nft, "-j", "list", "set", *self.table.split(), set_name])
            except BlockError as exc:
                if "No such file or directory" in str(exc):  # the table does not exist yet: nothing blocked
                    return []
                raise
            out.extend(parse_set_json(text, self.name))
        return out

    def render(self, rules: Sequence[BlockRule], generated: datetime | None = None) -> str:
        now = generated or utcnow()
        body = "".join(self.add_line(r, now) + "\n" for r in ordered(rules) if self.supports(r))
        return f"# leaktrace blocklist for nftables: nft -f FILE\n{self.setup_script()}{body}"

    def ensure(self) -> None:
        """Create the table now (otherwise it is created with the first change)."""
        self._run_script("")

    def teardown(self) -> None:
        """Delete the whole table (uninstall; tests)."""
        self._run_script(f"add table {self.table}\ndelete table {self.table}\n", setup=False)
        self._ready = False

    def _run_script(self, script: str, setup: bool = True) -> None:
        if setup and not self._ready:
            script = self.setup_script() + script
        self.runner.run([self.settings.nft, "-f", "-"], input=script)
        if setup:
            self._ready = True


def parse_set_json(text: str, backend: str = "nftables") -> list[AppliedRule]:
    """The elements of ``nft -j list set`` output (``{"elem": {"val", "timeout", "expires", "comment"}}``)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BlockError(f"nft printed invalid JSON: {exc}") from None
    out: list[AppliedRule] = []
    for item in doc.get("nftables", []):
        body: dict[str, Any] | None = item.get("set")
        if not body:
            continue
        for elem in body.get("elem", []):
            info = elem.get("elem", {}) if isinstance(elem, dict) else {}
            value = info.get("val") if info else elem
            if not isinstance(value, str):
                continue
            expires = info.get("expires")
            comment = str(info.get("comment", ""))
            out.append(
                AppliedRule(
                    backend=backend, value=value, kind="ip", text=f"{body.get('name')} {value}", enforced=True,
                    expires_in=int(expires) if expires is not None else None, comment=comment,
                    extra={"set": body.get("name"), "timeout": info.get("timeout")},
                )
            )
    return out
