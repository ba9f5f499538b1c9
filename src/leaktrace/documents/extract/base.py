"""Shared pieces of the extractors: limits (bomb guard), the per-file budget, safe XML, first-lines split."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from leaktrace.documents.model import Extraction, Zone

MiB = 1024 * 1024
FIRST_LINES = 5


@dataclass(frozen=True)
class Limits:
    """Bomb guard for containers; the member/byte limits apply per top-level file, all depths together."""

    max_depth: int = 4  # archive inside archive inside … (top-level file = depth 0)
    max_members: int = 10_000
    max_total_bytes: int = 1024 * MiB  # uncompressed
    max_member_bytes: int = 256 * MiB
    max_ratio: float = 200.0  # uncompressed / compressed, per member (checked above 1 MiB)
    max_file_bytes: int = 512 * MiB  # larger files are hashed and listed, not extracted
    max_pdf_pages: int = 2000


@dataclass
class Budget:
    members_left: int
    bytes_left: int

    @classmethod
    def of(cls, limits: Limits) -> Budget:
        return cls(limits.max_members, limits.max_total_bytes)


@dataclass
class Context:
    limits: Limits = field(default_factory=Limits)
    budget: Budget | None = None
    depth: int = 0

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = Budget.of(self.limits)

    @property
    def left(self) -> Budget:
        assert self.budget is not None
        return self.budget


class LimitExceeded(Exception):
    """A container broke a limit; the container is then listed as refused with this message."""


Extractor = Callable[[bytes, str, Context], Extraction]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


def parse_xml(data: bytes) -> Any:
    """Parse XML without entity expansion or network access (documents are untrusted)."""
    return etree.fromstring(data, parser=_PARSER)


def add_lines(ex: Extraction, lines: list[str], where: str = "", first: int = FIRST_LINES,
              tabular: bool = False) -> None:
    """First ``first`` non-empty lines to the first-lines zone, the rest to the body."""
    kept = [ln for ln in lines if ln.strip()]
    ex.add(Zone.FIRST_LINES, "\n".join(kept[:first]), where, tabular)
    ex.add(Zone.BODY, "\n".join(kept[first:]), where, tabular)
