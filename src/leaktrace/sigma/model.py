"""Result and bookkeeping types of the Sigma engine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SigmaMatch:
    """One rule firing on one event."""

    rule_id: str
    title: str
    level: str
    tags: tuple[str, ...]
    event_index: int
    record_id: Any = None
    computer: str | None = None
    timestamp: str | None = None
    matched_fields: dict[str, Any] = field(default_factory=dict)
    rule_path: str | None = None
    author: str | None = None  # DRL 1.1: outputs showing matches must credit the rule's author(s)

    @property
    def attack_techniques(self) -> tuple[str, ...]:
        """ATT&CK technique ids (T1003, T1003.001, ...) from the rule's ``attack.tNNNN`` tags."""
        out = []
        for tag in self.tags:
            ns, _, name = tag.partition(".")
            if ns == "attack" and name[:1] in "tT" and name[1:2].isdigit():
                out.append(name.upper())
        return tuple(out)


@dataclass(frozen=True)
class UnsupportedRule:
    """A rule the engine cannot evaluate, and why; never dropped silently."""

    rule_path: str
    reason: str
    rule_id: str | None = None
    title: str | None = None

    def __iter__(self) -> Iterator[str]:
        # lets callers unpack ``for path, reason in engine.unsupported``
        yield self.rule_path
        yield self.reason


class UnsupportedFeature(Exception):
    """Raised while compiling a rule that uses something the matcher does not implement."""
