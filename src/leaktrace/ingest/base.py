"""The ingester contract and its registry.

An ingester recognises a source from its first bytes and name (:meth:`Ingester.sniff`) and reads it into a
:class:`~leaktrace.lake.StagedBatch`: good records into the normalised tables, bad ones into ``quarantine``
with their line. It never raises for a bad record, only when the source as a whole cannot be read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from leaktrace.ingest.sources import Source
from leaktrace.lake import StagedBatch
from leaktrace.registry import Registry


@dataclass
class BadRecord:
    line: int | None
    reason: str
    raw: str


@dataclass
class IngestContext:
    tenant: str
    sensor: str
    batch_rows: int = 1_000_000
    # called with the number of bytes of the source consumed so far
    on_progress: Callable[[int], None] | None = None


@dataclass
class SourceResult:
    format: str
    rows: dict[str, int] = field(default_factory=dict)
    bad: list[BadRecord] = field(default_factory=list)
    bad_count: int = 0
    notes: list[str] = field(default_factory=list)


class Ingester(Protocol):
    name: ClassVar[str]

    def sniff(self, head: bytes, source_name: str) -> bool: ...

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult: ...


ingesters: Registry[Ingester] = Registry("ingester")

# Keep at most this many bad records' text per source (all are counted).
MAX_KEPT_BAD = 10_000
