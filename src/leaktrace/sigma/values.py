"""Event-side value access and Sigma value -> Python predicate compilation.

Sigma string semantics: case-insensitive, ``*`` any run of characters, ``?`` one character, the whole
value must match (``contains``/``startswith``/``endswith`` are wildcards added by pySigma's modifiers).
Strings are lowered once per event and field (:class:`EventView` caches them) and patterns are lowered at
compile time, so matching is plain ``==`` / ``startswith`` / ``endswith`` / ``in`` / compiled regexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sigma.types import Placeholder, SigmaString, SpecialChars

from leaktrace.sigma.model import UnsupportedFeature

MISSING: Any = object()
StrPred = Callable[[str], bool]


def as_strings(v: Any) -> tuple[str, ...]:
    """Event value -> its string forms (lists give one per element; null/absent gives none)."""
    if v is None or v is MISSING:
        return ()
    if isinstance(v, str):
        return (v,)
    if isinstance(v, bool):
        return ("true" if v else "false",)
    if isinstance(v, int | float):
        return (str(v),)
    if isinstance(v, list | tuple):
        out: list[str] = []
        for x in v:
            out.extend(as_strings(x))
        return tuple(out)
    return (str(v),)


class EventView:
    """One flat event with per-field caches of its string and lowered-string forms."""

    __slots__ = ("data", "_ci", "_low", "_str", "_all", "_text")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self._ci: dict[str, Any] | None = None
        self._low: dict[str, tuple[str, ...]] = {}
        self._str: dict[str, tuple[str, ...]] = {}
        self._all: tuple[str, ...] | None = None
        self._text: str | None = None

    def raw(self, name: str, lname: str) -> Any:
        """Field value; exact name first, then case-insensitive; ``MISSING`` when absent."""
        v = self.data.get(name, MISSING)
        if v is MISSING:
            ci = self._ci
            if ci is None:
                ci = self._ci = {str(k).lower(): x for k, x in self.data.items()}
            v = ci.get(lname, MISSING)
        return v

    def strings(self, name: str, lname: str) -> tuple[str, ...]:
        s = self._str.get(name)
        if s is None:
            s = self._str[name] = as_strings(self.raw(name, lname))
        return s

    def lowered(self, name: str, lname: str) -> tuple[str, ...]:
        s = self._low.get(name)
        if s is None:
            s = self._low[name] = tuple(x.lower() for x in self.strings(name, lname))
        return s

    def all_text(self) -> str:
        """Every field value joined by a separator no pattern contains, lowered once."""
        if self._text is None:
            parts: list[str] = []
            for v in self.data.values():
                if isinstance(v, str):
                    parts.append(v)
                elif v is not None:
                    parts.extend(as_strings(v))
            self._text = "\x1f".join(parts).lower()
        return self._text

    def all_lowered(self) -> tuple[str, ...]:
        """Every field value, lowered: what keyword (field-less) detections search."""
        if self._all is None:
            out: list[str] = []
            for v in self.data.values():
                out.extend(x.lower() for x in as_strings(v))
            self._all = tuple(out)
        return self._all


@dataclass
class StringSet:
    """An OR of string patterns on one field, merged so one pass tests them all."""

    equals: set[str] = field(default_factory=set)
    prefixes: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    contains: list[str] = field(default_factory=list)
    regexes: list[str] = field(default_factory=list)
    any_value: bool = False

    def add(self, s: SigmaString, lower: bool = True) -> None:
        """Add one Sigma string (with its ``*``/``?`` wildcards)."""
        parts = list(s.s)
        for p in parts:
            if isinstance(p, Placeholder):
                raise UnsupportedFeature(f"placeholder %{p.name}% (expand modifier) needs a pipeline value")
        if lower:
            parts = [p.lower() if isinstance(p, str) else p for p in parts]
        star = SpecialChars.WILDCARD_MULTI
        lead = bool(parts) and parts[0] is star
        trail = len(parts) > int(lead) and parts[-1] is star
        inner = parts[int(lead) : len(parts) - int(trail)]
        if not inner:
            if lead or trail:
                self.any_value = True
            else:
                self.equals.add("")
            return
        if len(inner) == 1 and isinstance(inner[0], str):
            text = inner[0]
            if lead and trail:
                self.contains.append(text)
            elif lead:
                self.suffixes.append(text)
            elif trail:
                self.prefixes.append(text)
            else:
                self.equals.add(text)
            return
        rx = []
        for p in parts:
            if isinstance(p, str):
                rx.append(re.escape(p))
            elif p is star:
                rx.append(".*")
            else:
                rx.append(".")
        self.regexes.append("".join(rx))

    def compile(self) -> StrPred:
        """One predicate over a (lowered) string."""
        if self.any_value:
            return lambda s: True
        checks: list[StrPred] = []
        eq = frozenset(self.equals)
        if len(eq) == 1:
            (one,) = eq
            checks.append(lambda s: s == one)
        elif eq:
            checks.append(eq.__contains__)
        if self.prefixes:
            pre = tuple(self.prefixes)
            checks.append(lambda s: s.startswith(pre))
        if self.suffixes:
            suf = tuple(self.suffixes)
            checks.append(lambda s: s.endswith(suf))
        if len(self.contains) == 1:
            sub = self.contains[0]
            checks.append(lambda s: sub in s)
        elif self.contains:
            checks.append(_contains_any(tuple(dict.fromkeys(self.contains))))
        if self.regexes:
            big = re.compile("|".join(f"(?:{r})" for r in self.regexes), re.DOTALL)
            checks.append(lambda s: big.fullmatch(s) is not None)
        return _any_of(checks)


def _contains_any(subs: tuple[str, ...]) -> StrPred:
    # a plain loop of C-level ``in`` tests beats a regex alternation and any() over a generator
    def pred(s: str) -> bool:
        for x in subs:  # noqa: SIM110 - explicit loop: faster than any()/all() on a generator here
            if x in s:
                return True
        return False

    return pred


def _any_of(checks: Sequence[StrPred]) -> StrPred:
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda s: a(s) or b(s)
    cs = tuple(checks)

    def pred(s: str) -> bool:
        for c in cs:  # noqa: SIM110 - explicit loop: faster than any()/all() on a generator here
            if c(s):
                return True
        return False

    return pred


def to_number(v: Any) -> float | None:
    """Event value -> number for ``lt``/``gt``; decimal or 0x-hex strings accepted."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return v
    if isinstance(v, str):
        t = v.strip()
        try:
            return int(t, 16) if t.lower().startswith("0x") else float(t)
        except ValueError:
            return None
    return None
