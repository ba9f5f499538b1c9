"""The test twin of ``nft``: records every script and keeps the set elements in memory, with timeouts.

It understands exactly the statements :class:`~leaktrace.respond.nftables.NftablesBlocker` writes, and
answers ``nft -j list set`` in the same JSON shape as nftables 1.0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from leaktrace.respond.errors import BlockError
from leaktrace.respond.model import utcnow

_STMT = re.compile(r"^(add|delete) element (\w+) (\w+) (\w+) \{ (.*) \}$")
_SET = re.compile(r"^add set (\w+) (\w+) (\w+) \{")
_TABLE = re.compile(r"^(add|delete) table (\w+) (\w+)$")
_ELEM = re.compile(r'^(\S+)(?: timeout (\S+))?(?: comment "([^"]*)")?$')
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _seconds(text: str) -> int:
    return sum(int(n) * _UNIT[u] for n, u in re.findall(r"(\d+)([dhms])", text))


@dataclass
class _Element:
    timeout: int | None
    comment: str
    added: datetime


@dataclass
class FakeNft:
    """An in-memory ``nft``: ``runner=FakeNft()`` in place of the subprocess runner."""

    clock: Callable[[], datetime] = utcnow
    scripts: list[str] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    sets: dict[str, dict[str, _Element]] = field(default_factory=dict)
    fail_with: str | None = None

    def run(self, args: Sequence[str], input: str | None = None) -> str:
        self.commands.append(list(args))
        if self.fail_with:
            raise BlockError(self.fail_with)
        if list(args[1:3]) == ["-f", "-"]:
            self._apply(input or "")
            return ""
        if list(args[1:4]) == ["-j", "list", "set"]:
            return self._list(args[4], args[5], args[6])
        raise BlockError(f"the nft twin does not understand {' '.join(args)}")

    def _apply(self, script: str) -> None:
        staged = {name: dict(elems) for name, elems in self.sets.items()}  # atomic: all or nothing
        for raw in script.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if m := _SET.match(line):
                staged.setdefault(f"{m[1]} {m[2]} {m[3]}", {})
            elif m := _TABLE.match(line):
                if m[1] == "delete":
                    prefix = f"{m[2]} {m[3]} "
                    staged = {k: v for k, v in staged.items() if not k.startswith(prefix)}
            elif m := _STMT.match(line):
                key = f"{m[2]} {m[3]} {m[4]}"
                if key not in staged:
                    raise BlockError(f"Error: No such file or directory; set {key} does not exist")
                e = _ELEM.match(m[5].strip())
                if not e:
                    raise BlockError(f"Error: syntax error in element '{m[5]}'")
                elems = staged[key]
                if m[1] == "add":
                    if e[1] not in elems:
                        timeout = _seconds(e[2]) if e[2] else None
                        elems[e[1]] = _Element(timeout, e[3] or "", self.clock())
                elif e[1] in elems:
                    del elems[e[1]]
                else:
                    raise BlockError("Error: Could not process rule: No such file or directory")
        self.scripts.append(script)
        self.sets = staged
        self._expire()

    def _expire(self) -> None:
        now = self.clock()
        for elems in self.sets.values():
            for value in [v for v, e in elems.items() if e.timeout and e.added + timedelta(seconds=e.timeout) <= now]:
                del elems[value]

    def _list(self, family: str, table: str, name: str) -> str:
        self._expire()
        key = f"{family} {table} {name}"
        if key not in self.sets:
            raise BlockError("Error: No such file or directory")
        now = self.clock()
        elems: list[object] = []
        for value, e in self.sets[key].items():
            info: dict[str, object] = {"val": value}
            if e.timeout:
                info["timeout"] = e.timeout
                info["expires"] = max(0, int((e.added + timedelta(seconds=e.timeout) - now).total_seconds()))
            if e.comment:
                info["comment"] = e.comment
            elems.append({"elem": info} if len(info) > 1 else value)
        body: dict[str, object] = {"family": family, "name": name, "table": table, "flags": ["timeout"]}
        if elems:
            body["elem"] = elems
        return json.dumps({"nftables": [{"metainfo": {"version": "twin"}}, {"set": body}]})

    def elements(self, name: str = "blocked_v4", table: str = "leaktrace") -> dict[str, _Element]:
        self._expire()
        return dict(self.sets.get(f"inet {table} {name}", {}))
