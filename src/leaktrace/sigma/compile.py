"""pySigma condition tree -> a tree of small match nodes.

pySigma parses the rule, applies the value modifiers (contains, windash, base64offset, wide, cidr, re, ...)
and resolves the condition (``1 of selection*``, ``all of them``, ``not``, parentheses) into a tree of
AND / OR / NOT over field=value and keyword leaves. This module turns that tree into :class:`Node` objects;
OR-ed string values on one field are merged into a single :class:`StringSet` test. The node classes live in
``nodes.py``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any, cast

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
)

from leaktrace.sigma.model import UnsupportedFeature
from leaktrace.sigma.nodes import And, KeywordLeaf, Node, Not, Or, PredLeaf, StrLeaf
from leaktrace.sigma.values import MISSING, EventView, StringSet, StrPred, as_strings, to_number

CondNode = ConditionItem | ConditionFieldEqualsValueExpression | ConditionValueExpression


# ---------------------------------------------------------------- values


def _flatten_values(v: SigmaType) -> list[SigmaType]:
    return [x for e in v.values for x in _flatten_values(e)] if isinstance(v, SigmaExpansion) else [v]


def _is_plain_string(v: SigmaType) -> bool:
    if isinstance(v, SigmaCasedString | SigmaTimestampPart):
        return False
    return isinstance(v, SigmaString | SigmaNumber | SigmaBool)


def _add_plain(ss: StringSet, v: SigmaType) -> None:
    if isinstance(v, SigmaString):
        ss.add(v)
    elif isinstance(v, SigmaBool):
        ss.equals.add("true" if v.boolean else "false")
    elif isinstance(v, SigmaNumber):
        ss.equals.add(str(v.number).lower())


def _regex_pred(v: SigmaRegularExpression) -> StrPred:
    flags = 0
    for f in v.flags:
        flags |= {
            SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
            SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
            SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
        }[f]
    try:
        rx = re.compile(v.regexp.to_plain(), flags)
    except re.error as e:
        raise UnsupportedFeature(f"regular expression not valid for Python's re: {e}") from e
    return lambda s: rx.search(s) is not None


_OPS: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _compare_test(v: SigmaCompareExpression) -> Callable[[EventView, Any], bool]:
    op, ref = _OPS[v.op], float(v.number.number)

    def test(ev: EventView, raw: Any) -> bool:
        n = to_number(raw)
        return n is not None and op(n, ref)

    return test


def _cidr_test(v: SigmaCIDRExpression) -> Callable[[EventView, Any], bool]:
    net = v.network

    def test(ev: EventView, raw: Any) -> bool:
        for s in as_strings(raw):
            try:
                if ipaddress.ip_address(s.strip()) in net:
                    return True
            except ValueError:
                continue
        return False

    return test


def _fieldref_test(v: SigmaFieldReference) -> Callable[[EventView, Any], bool]:
    other, lother = v.field, v.field.lower()
    sw, ew = v.starts_with, v.ends_with

    def test(ev: EventView, raw: Any) -> bool:
        mine = [s.lower() for s in as_strings(raw)]
        theirs = ev.lowered(other, lother)
        for a in mine:
            for b in theirs:  # noqa: SIM110 - explicit loop: faster than any()/all() on a generator here
                if (sw and ew and b in a) or (sw and not ew and a.startswith(b)):
                    return True
                if (ew and not sw and a.endswith(b)) or (not sw and not ew and a == b):
                    return True
        return False

    return test


def _null_test(ev: EventView, raw: Any) -> bool:
    return raw is MISSING or raw is None


def _single_leaf(name: str, v: SigmaType) -> Node:
    """A leaf for one non-mergeable value on a field."""
    if isinstance(v, SigmaCasedString):
        ss = StringSet()
        ss.add(v, lower=False)
        return StrLeaf(name, ss.compile(), cased=True)
    if isinstance(v, SigmaRegularExpression):
        return StrLeaf(name, _regex_pred(v), cased=True)
    if isinstance(v, SigmaNull):
        return PredLeaf(name, _null_test)
    if isinstance(v, SigmaExists):
        want = bool(v.exists)
        return PredLeaf(name, lambda ev, raw: (raw is not MISSING and raw is not None) == want)
    if isinstance(v, SigmaCompareExpression):
        return PredLeaf(name, _compare_test(v))
    if isinstance(v, SigmaCIDRExpression):
        return PredLeaf(name, _cidr_test(v))
    if isinstance(v, SigmaFieldReference):
        return PredLeaf(name, _fieldref_test(v))
    if isinstance(v, SigmaTimestampPart):
        raise UnsupportedFeature(
            f"timestamp part modifier ({v.timestamp_part.name.lower()}) on field '{name}'"
        )
    raise UnsupportedFeature(f"value type {type(v).__name__} on field '{name}' is not supported")


def _field_leaves(name: str, values: list[SigmaType]) -> list[Node]:
    """OR-ed values of one field: plain strings merged into one StringSet leaf, the rest one leaf each."""
    plain = [v for v in values if _is_plain_string(v)]
    out: list[Node] = []
    if plain:
        ss = StringSet()
        for v in plain:
            _add_plain(ss, v)
        out.append(StrLeaf(name, ss.compile(), spec=ss))
    out.extend(_single_leaf(name, v) for v in values if not _is_plain_string(v))
    return out


def _keyword_leaf(values: list[SigmaType]) -> Node:
    ss = StringSet()
    for v in values:
        if isinstance(v, SigmaString) and not isinstance(v, SigmaCasedString):
            # full-text search: a keyword matches anywhere in a value
            star = SpecialChars.WILDCARD_MULTI
            if not v.startswith(star):
                v = star + v
            if not v.endswith(star):
                v = v + star
            ss.add(v)
        elif isinstance(v, SigmaNumber | SigmaBool):
            ss.contains.append(str(v).lower())
        else:
            raise UnsupportedFeature(f"keyword of type {type(v).__name__} is not supported")
    only_contains = not (ss.equals or ss.prefixes or ss.suffixes or ss.regexes or ss.any_value)
    subs = tuple(ss.contains) if only_contains and all("\x1f" not in x for x in ss.contains) else None
    return KeywordLeaf(ss.compile(), subs)


# ---------------------------------------------------------------- tree


def _args(node: ConditionItem) -> list[CondNode]:
    """Children of a resolved condition (identifiers are already replaced by pySigma's postprocessing)."""
    return cast(list[CondNode], [a for a in node.args if a is not None])


def compile_condition(node: CondNode | None) -> Node:
    """Compile one pySigma condition tree."""
    if node is None:
        raise UnsupportedFeature("empty condition")
    if isinstance(node, ConditionFieldEqualsValueExpression):
        leaves = _field_leaves(node.field, _flatten_values(node.value))
        return leaves[0] if len(leaves) == 1 else Or(leaves)
    if isinstance(node, ConditionValueExpression):
        return _keyword_leaf(_flatten_values(node.value))
    if isinstance(node, ConditionNOT):
        return Not(compile_condition(_args(node)[0]))
    if isinstance(node, ConditionAND):
        return And([compile_condition(a) for a in _args(node)])
    if isinstance(node, ConditionOR):
        return _compile_or(_args(node))
    raise UnsupportedFeature(f"condition element {type(node).__name__} is not supported")


def _compile_or(args: list[CondNode]) -> Node:
    """OR: gather field=value children by field so each field is tested once."""
    by_field: dict[str, list[SigmaType]] = {}
    keywords: list[SigmaType] = []
    others: list[Node] = []
    for a in args:
        if isinstance(a, ConditionFieldEqualsValueExpression):
            by_field.setdefault(a.field, []).extend(_flatten_values(a.value))
        elif isinstance(a, ConditionValueExpression):
            keywords.extend(_flatten_values(a.value))
        else:
            others.append(compile_condition(a))
    kids: list[Node] = []
    for name, values in by_field.items():
        kids.extend(_field_leaves(name, values))
    if keywords:
        kids.append(_keyword_leaf(keywords))
    kids.extend(others)
    return kids[0] if len(kids) == 1 else Or(kids)


def required_event_ids(node: CondNode | None) -> frozenset[int] | None:
    """Event ids the condition can only match (``EventID: 4688`` ANDed in), or None if unconstrained."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        if node.field != "EventID":
            return None
        vals = _flatten_values(node.value)
        ids = set()
        for v in vals:
            if isinstance(v, SigmaNumber) and isinstance(v.number, int):
                ids.add(v.number)
            elif isinstance(v, SigmaString) and not v.contains_special() and str(v).isdigit():
                ids.add(int(str(v)))
            else:
                return None
        return frozenset(ids)
    if isinstance(node, ConditionAND):
        sets = [s for s in (required_event_ids(a) for a in _args(node)) if s is not None]
        if not sets:
            return None
        out = sets[0]
        for s in sets[1:]:
            out = out & s
        return out
    if isinstance(node, ConditionOR):
        acc: set[int] = set()
        for a in _args(node):
            sub = required_event_ids(a)
            if sub is None:
                return None
            acc |= sub
        return frozenset(acc)
    return None
