"""Compiled condition nodes: AND / OR / NOT over leaves that test one field (or, for keywords, all fields).

``match`` is the hot path (plain loops, cached lowered values); ``explain`` also records the fields of the
leaves that matched, and runs only for events that matched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leaktrace.sigma.values import MISSING, EventView, StringSet, StrPred


class Node:
    """A compiled condition; ``explain`` also records the fields of the leaves that matched."""

    __slots__ = ()

    def match(self, ev: EventView) -> bool:
        raise NotImplementedError

    def explain(self, ev: EventView, out: dict[str, Any]) -> bool:
        return self.match(ev)


class And(Node):
    __slots__ = ("kids",)

    def __init__(self, kids: list[Node]) -> None:
        self.kids = tuple(kids)

    def match(self, ev: EventView) -> bool:
        for k in self.kids:  # noqa: SIM110 - explicit loop: faster than any()/all() on a generator here
            if not k.match(ev):
                return False
        return True

    def explain(self, ev: EventView, out: dict[str, Any]) -> bool:
        return all([k.explain(ev, out) for k in self.kids])


class Or(Node):
    __slots__ = ("kids",)

    def __init__(self, kids: list[Node]) -> None:
        self.kids = tuple(kids)

    def match(self, ev: EventView) -> bool:
        for k in self.kids:  # noqa: SIM110 - explicit loop: faster than any()/all() on a generator here
            if k.match(ev):
                return True
        return False

    def explain(self, ev: EventView, out: dict[str, Any]) -> bool:
        return any([k.explain(ev, out) for k in self.kids])


class Not(Node):
    __slots__ = ("kid",)

    def __init__(self, kid: Node) -> None:
        self.kid = kid

    def match(self, ev: EventView) -> bool:
        return not self.kid.match(ev)


class Leaf(Node):
    """A test on one field's value(s)."""

    __slots__ = ("name", "lname")

    def __init__(self, name: str) -> None:
        self.name = name
        self.lname = name.lower()

    def explain(self, ev: EventView, out: dict[str, Any]) -> bool:
        ok = self.match(ev)
        if ok:
            v = ev.raw(self.name, self.lname)
            out[self.name] = None if v is MISSING else v
        return ok


class StrLeaf(Leaf):
    __slots__ = ("pred", "cased", "spec")

    def __init__(self, name: str, pred: StrPred, cased: bool = False, spec: StringSet | None = None) -> None:
        super().__init__(name)
        self.pred = pred
        self.cased = cased
        self.spec = spec  # the patterns behind ``pred`` (lowered), for the value index

    def match(self, ev: EventView) -> bool:
        if self.cased:
            vals = ev.strings(self.name, self.lname)
        else:
            cached = ev._low.get(self.name)  # inlined cache hit: this is the hottest path
            vals = cached if cached is not None else ev.lowered(self.name, self.lname)
        if len(vals) == 1:
            return self.pred(vals[0])
        pred = self.pred
        for s in vals:  # noqa: SIM110 - explicit loop: faster than any()/all() on a generator here
            if pred(s):
                return True
        return False


class PredLeaf(Leaf):
    """Field test on the raw value (null, exists, numeric compare, cidr, field reference)."""

    __slots__ = ("test",)

    def __init__(self, name: str, test: Callable[[EventView, Any], bool]) -> None:
        super().__init__(name)
        self.test = test

    def match(self, ev: EventView) -> bool:
        return self.test(ev, ev.raw(self.name, self.lname))


class KeywordLeaf(Node):
    """Value-only detection: searched in every field of the event."""

    __slots__ = ("pred", "subs")

    def __init__(self, pred: StrPred, subs: tuple[str, ...] | None = None) -> None:
        self.pred = pred
        self.subs = subs  # plain substrings only: one search over the joined event text

    def match(self, ev: EventView) -> bool:
        if self.subs is not None:
            text = ev.all_text()
            for x in self.subs:  # noqa: SIM110 - explicit loop: faster than any()/all() on a generator here
                if x in text:
                    return True
            return False
        pred = self.pred
        return any(pred(s) for s in ev.all_lowered())

    def explain(self, ev: EventView, out: dict[str, Any]) -> bool:
        ok = self.match(ev)
        if ok:
            for k, v in ev.data.items():
                if isinstance(v, str) and self.pred(v.lower()):
                    out[str(k)] = v
                    break
        return ok
