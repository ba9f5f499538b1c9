"""Value index: skip rules that cannot match an event without evaluating them.

Most Windows rules require one exact-ish value, e.g. ``Image|endswith: '\\rundll32.exe'`` or
``OriginalFileName: 'RUNDLL32.EXE'`` ANDed with the rest. For such a rule we extract *anchors*, a set of
(kind, field, value) of which at least one must hold when the rule matches:

* ``("eq", field, v)``: the lowered field value equals ``v``;
* ``("base", field, name)``: the part after the last backslash equals ``name`` (from ``endswith: '\\name'``);
* ``("sub", field, s)``: the lowered value contains ``s`` (from contains / startswith / endswith / equals);
  these are found for all rules at once with an Aho-Corasick automaton (``pyahocorasick``) when installed.

Per event we compute those keys for the indexed fields and only evaluate the rules found plus the rules
without anchors. Anchors are necessary conditions, never sufficient: every candidate is fully evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

try:  # optional: substring anchors need a multi-pattern matcher
    import ahocorasick

    HAVE_AHOCORASICK = True
except ImportError:  # pragma: no cover - exercised where pyahocorasick is absent
    ahocorasick = None
    HAVE_AHOCORASICK = False

from leaktrace.sigma.nodes import And, Node, Or, StrLeaf
from leaktrace.sigma.values import EventView

if TYPE_CHECKING:
    from leaktrace.sigma.engine import CompiledRule

Anchor = tuple[str, str, str]  # (kind, field, value)


def _basename(v: str) -> str:
    return v.rsplit("\\", 1)[-1]


def _leaf_anchors(leaf: StrLeaf, allow_sub: bool) -> frozenset[Anchor] | None:
    spec = leaf.spec
    if spec is None or leaf.cased or spec.any_value or spec.regexes:
        return None
    name = leaf.name
    if not (spec.prefixes or spec.contains) and all(s.startswith("\\") and len(s) > 1 for s in spec.suffixes):
        exact = {("eq", name, v) for v in spec.equals} | {("base", name, _basename(s)) for s in spec.suffixes}
        if exact:
            return frozenset(exact)
    if not allow_sub:
        return None
    literals = set(spec.equals) | set(spec.prefixes) | set(spec.suffixes) | set(spec.contains)
    if not literals or "" in literals:
        return None
    return frozenset(("sub", name, x) for x in literals)


def _cost(a: frozenset[Anchor]) -> tuple[int, int, int]:
    """Lower is better: exact anchors before substrings, then longer shortest literal, then fewer anchors."""
    subs = [v for kind, _, v in a if kind == "sub"]
    return (1 if subs else 0, -min((len(v) for v in subs), default=0), len(a))


def anchors(node: Node, allow_sub: bool = False) -> frozenset[Anchor] | None:
    """Anchors of a compiled condition, or None when it can match without any."""
    if isinstance(node, StrLeaf):
        return _leaf_anchors(node, allow_sub)
    if isinstance(node, Or):
        acc: set[Anchor] = set()
        for k in node.kids:
            a = anchors(k, allow_sub)
            if a is None:
                return None
            acc |= a
        return frozenset(acc)
    if isinstance(node, And):
        best: frozenset[Anchor] | None = None
        for k in node.kids:
            a = anchors(k, allow_sub)
            if a is not None and (best is None or _cost(a) < _cost(best)):
                best = a
        return best
    return None


Entry = tuple[int, "CompiledRule"]


@dataclass(frozen=True)
class Candidates:
    """The rules of one (channel, event id), split into always-evaluated and value-indexed."""

    always: tuple[Entry, ...]
    index: dict[Anchor, tuple[Entry, ...]]
    fields: tuple[tuple[str, str, bool, bool], ...]  # (field, lowered, has eq anchors, has base anchors)
    automata: tuple[tuple[str, str, Any], ...] = ()  # (field, lowered, Aho-Corasick automaton -> entries)

    @classmethod
    def build(cls, rules: Sequence[CompiledRule], substrings: bool = False) -> Candidates:
        always: list[Entry] = []
        index: dict[Anchor, list[Entry]] = {}
        for i, r in enumerate(rules):
            a = anchors(r.node, allow_sub=substrings)
            if a is None:
                always.append((i, r))
            else:
                for key in a:
                    index.setdefault(key, []).append((i, r))
        kinds: dict[str, set[str]] = {}
        subs: dict[str, dict[str, list[Entry]]] = {}
        for (kind, field, value), entries in index.items():
            if kind == "sub":
                subs.setdefault(field, {})[value] = entries
            else:
                kinds.setdefault(field, set()).add(kind)
        fields = tuple((f, f.lower(), "eq" in k, "base" in k) for f, k in sorted(kinds.items()))
        automata = tuple((f, f.lower(), _automaton(lits)) for f, lits in sorted(subs.items()))
        exact = {k: tuple(v) for k, v in index.items() if k[0] != "sub"}
        return cls(tuple(always), exact, fields, automata)

    def __len__(self) -> int:
        return len(self.always) + len(self.index) + len(self.automata)

    def all_rules(self) -> list[CompiledRule]:
        """Every rule of the group, in order (no value index)."""
        rules = {i: r for i, r in self.always}
        for group in self.index.values():
            rules.update(group)
        for _, _, automaton in self.automata:
            for _, entries in automaton.items():
                rules.update(entries)
        return [rules[i] for i in sorted(rules)]

    def for_event(self, ev: EventView) -> Iterable[CompiledRule]:
        """Rules to evaluate for this event, in rule order."""
        if not self.index and not self.automata:
            return [r for _, r in self.always]
        hit: dict[int, CompiledRule] = {}
        index = self.index
        for field, lfield, eq, base in self.fields:
            for v in ev.lowered(field, lfield):
                if eq:
                    for i, r in index.get(("eq", field, v), ()):
                        hit[i] = r
                if base:
                    for i, r in index.get(("base", field, _basename(v)), ()):
                        hit[i] = r
        for field, lfield, automaton in self.automata:
            for v in ev.lowered(field, lfield):
                for _, entries in automaton.iter(v):
                    for i, r in entries:
                        hit[i] = r
        if not hit:
            return [r for _, r in self.always]
        for i, r in self.always:
            hit[i] = r
        return [hit[i] for i in sorted(hit)]


def _automaton(literals: dict[str, list[Entry]]) -> Any:
    auto = ahocorasick.Automaton()
    for lit, entries in literals.items():
        auto.add_word(lit, tuple(entries))
    auto.make_automaton()
    return auto
