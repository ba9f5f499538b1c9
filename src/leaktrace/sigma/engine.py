"""SigmaEngine: load rules with pySigma, compile them, index them by log source, evaluate events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from leaktrace.sigma.compile import compile_condition, required_event_ids
from leaktrace.sigma.events import flatten_event
from leaktrace.sigma.logsource import ANY_CHANNEL, Key, resolve_logsource
from leaktrace.sigma.model import SigmaMatch, UnsupportedFeature, UnsupportedRule
from leaktrace.sigma.nodes import Node, Or
from leaktrace.sigma.prefilter import HAVE_AHOCORASICK, Candidates
from leaktrace.sigma.values import EventView

BUILTIN_RULES = Path(__file__).resolve().parent / "rules"
# libyaml's safe loader: same safe semantics as pySigma's yaml.safe_load, ~10x faster on big rule sets
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class CompiledRule:
    rule_id: str
    title: str
    level: str
    tags: tuple[str, ...]
    path: str
    node: Node
    keys: frozenset[Key]
    author: str | None = None


def _rule_path(rule: Any, fallback: str) -> str:
    src = getattr(rule, "source", None)
    return str(src.path) if src is not None and getattr(src, "path", None) else fallback


def _error_reason(err: Exception) -> str:
    msg = str(err).split(" in file ")[0].strip()
    if "pipe syntax" in msg:
        return "aggregation condition ('| count()' etc.): deprecated Sigma syntax, not supported"
    return f"pySigma error: {msg}"


def compile_rule(rule: SigmaRule, path: str) -> CompiledRule:
    """Compile one parsed rule or raise :class:`UnsupportedFeature` with the reason."""
    if rule.errors:
        raise UnsupportedFeature(_error_reason(rule.errors[0]))
    ls = resolve_logsource(rule.logsource)
    trees = []
    for cond in rule.detection.parsed_condition:
        try:
            trees.append(cond.parse())
        except SigmaError as e:
            raise UnsupportedFeature(_error_reason(e)) from e
    nodes = [compile_condition(t) for t in trees]
    node = nodes[0] if len(nodes) == 1 else Or(nodes)
    ids = [required_event_ids(t) for t in trees]
    if all(i is not None for i in ids):
        allowed = frozenset().union(*[i for i in ids if i is not None])
        ls = ls.restrict_event_ids(allowed)
    return CompiledRule(
        rule_id=str(rule.id) if rule.id else path,
        title=rule.title,
        level=str(rule.level) if rule.level else "",
        tags=tuple(str(t) for t in rule.tags),
        path=path,
        node=node,
        keys=ls.keys,
        author=rule.author,
    )


def _yaml_files(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(x for x in p.rglob("*") if x.suffix in (".yml", ".yaml") and x.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"Sigma rule path not found: {p}")
    return out


class SigmaEngine:
    """Evaluates compiled Sigma rules over flat event dicts.

    >>> engine = SigmaEngine.from_paths(["my_rules/"], builtin=True)
    >>> matches = engine.evaluate(events)      # flat dicts: EventID, Channel, Image, CommandLine, ...
    >>> engine.unsupported                    # [(rule_path, reason), ...]
    """

    def __init__(self, rules: Sequence[CompiledRule] = (), unsupported: Sequence[UnsupportedRule] = ()):
        self.rules: list[CompiledRule] = list(rules)
        # value index (prefilter): False evaluates every rule of the log source; substring anchors need
        # pyahocorasick and are used when it is installed
        self.use_index = True
        self._substring_index = HAVE_AHOCORASICK
        self.unsupported: list[UnsupportedRule] = list(unsupported)
        self._index: dict[Key, list[CompiledRule]] = {}
        for r in self.rules:
            for k in r.keys:
                self._index.setdefault(k, []).append(r)
        self._cache: dict[tuple[str, Any], Candidates] = {}

    @property
    def substring_index(self) -> bool:
        """Whether substring anchors (Aho-Corasick over contains/startswith/endswith) are indexed."""
        return self._substring_index

    @substring_index.setter
    def substring_index(self, on: bool) -> None:
        if on and not HAVE_AHOCORASICK:
            raise RuntimeError("substring index needs the pyahocorasick package")
        self._substring_index = on
        self._cache.clear()

    # ------------------------------------------------------------ loading

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], *, builtin: bool = False) -> SigmaEngine:
        """Rules from files and folders (``**/*.yml``), plus the built-in set if ``builtin``."""
        files = _yaml_files(([BUILTIN_RULES] if builtin else []) + list(paths))
        engine = cls()
        for f in files:
            engine.add_yaml(f.read_text(encoding="utf-8"), str(f))
        return engine

    @classmethod
    def builtin(cls) -> SigmaEngine:
        """The curated rule set shipped with leaktrace (``leaktrace/sigma/rules``)."""
        return cls.from_paths([], builtin=True)

    @classmethod
    def from_yaml(cls, text: str, path: str = "<yaml>") -> SigmaEngine:
        engine = cls()
        engine.add_yaml(text, path)
        return engine

    def add_yaml(self, text: str, path: str) -> None:
        """Parse one YAML file (one or more rule documents) and add its rules."""
        try:
            docs = list(yaml.load_all(text, Loader=_YAML_LOADER))
            coll = SigmaCollection.from_dicts(
                docs,
                collect_errors=True,
                source=SigmaRuleLocation(Path(path)),
                collect_filters=True,
                resolve_references=False,
            )
        except Exception as e:  # YAML syntax errors and the like: report, don't crash the load
            self._add_unsupported(UnsupportedRule(path, f"cannot parse: {e}"))
            return
        rule_errors = {id(e) for r in list(coll.rules) + list(coll.filters) for e in r.errors}
        for err in coll.errors:
            if id(err) not in rule_errors:  # file-level problem not tied to one rule
                self._add_unsupported(UnsupportedRule(path, _error_reason(err)))
        for rule in list(coll.rules) + list(coll.filters):
            self.add_rule(rule, path)

    def add_rule(self, rule: Any, path: str) -> None:
        rid = str(rule.id) if getattr(rule, "id", None) else None
        title = getattr(rule, "title", None)
        if isinstance(rule, SigmaCorrelationRule):
            reason = f"correlation rule ({rule.type}): needs state across events, not supported"
            self._add_unsupported(UnsupportedRule(path, reason, rid, title))
            return
        if isinstance(rule, SigmaFilter):
            self._add_unsupported(UnsupportedRule(path, "meta filter: not applied", rid, title))
            return
        if not isinstance(rule, SigmaRule):
            self._add_unsupported(
                UnsupportedRule(path, f"unknown rule type {type(rule).__name__}", rid, title)
            )
            return
        try:
            compiled = compile_rule(rule, _rule_path(rule, path))
        except UnsupportedFeature as e:
            self._add_unsupported(UnsupportedRule(path, str(e), rid, title))
            return
        except (SigmaError, ValueError, TypeError) as e:  # defensive: a rule must never break the load
            self._add_unsupported(UnsupportedRule(path, f"compile error: {e}", rid, title))
            return
        self.rules.append(compiled)
        for k in compiled.keys:
            self._index.setdefault(k, []).append(compiled)
        self._cache.clear()

    def _add_unsupported(self, u: UnsupportedRule) -> None:
        self.unsupported.append(u)

    # ------------------------------------------------------------ evaluation

    @property
    def supported_share(self) -> float:
        total = len(self.rules) + len(self.unsupported)
        return len(self.rules) / total if total else 0.0

    def _candidates(self, channel: str, eid: Any) -> Candidates:
        key = (channel, eid)
        c = self._cache.get(key)
        if c is None:
            idx = self._index
            seen: dict[int, CompiledRule] = {}
            for k in ((channel, eid), (channel, None), (ANY_CHANNEL, None)):
                for r in idx.get(k, ()):
                    seen.setdefault(id(r), r)
            c = self._cache[key] = Candidates.build(list(seen.values()), self.substring_index)
        return c

    def evaluate(
        self,
        events: Iterable[Mapping[str, Any]],
        *,
        flatten: bool = False,
        default_channel: str | None = None,
        explain: bool = True,
    ) -> list[SigmaMatch]:
        """Every (rule, event) match, in event order.

        ``flatten``: run :func:`~leaktrace.sigma.events.flatten_event` on each event first (EVTX-JSON,
        Winlogbeat, NXLog shapes). ``default_channel``: channel to assume for events without ``Channel``.
        ``explain``: fill ``SigmaMatch.matched_fields`` (costs a second pass over the matching rule only).
        """
        out: list[SigmaMatch] = []
        dflt = default_channel.lower() if default_channel else ""
        for i, raw in enumerate(events):
            ev = flatten_event(raw) if flatten else raw
            ch = ev.get("Channel")
            channel = ch.lower() if isinstance(ch, str) and ch else dflt
            eid = ev.get("EventID")
            if isinstance(eid, str) and eid.isdigit():
                eid = int(eid)
            cands = self._candidates(channel, eid)
            if not cands:
                continue
            view = EventView(ev)
            for r in cands.for_event(view) if self.use_index else cands.all_rules():
                if r.node.match(view):
                    out.append(self._match(r, i, ev, view, explain))
        return out

    @staticmethod
    def _match(r: CompiledRule, i: int, ev: Mapping[str, Any], view: EventView, explain: bool) -> SigmaMatch:
        fields: dict[str, Any] = {}
        if explain:
            r.node.explain(view, fields)
        comp = ev.get("Computer")
        ts = ev.get("TimeCreated") or ev.get("UtcTime")
        return SigmaMatch(
            rule_id=r.rule_id,
            title=r.title,
            level=r.level,
            tags=r.tags,
            event_index=i,
            record_id=ev.get("EventRecordID"),
            computer=comp if isinstance(comp, str) else None,
            timestamp=ts if isinstance(ts, str) else None,
            matched_fields=fields,
            rule_path=r.path,
            author=r.author,
        )
