"""Data model of the document inventory: text segments with provenance, labels, and one record per document.

Extracted text lives only in memory (``Extraction``); a ``DocumentRecord`` holds metadata, never text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Zone(StrEnum):
    """Where a piece of text sits in a document; it decides whether a string is a marking or a sentence."""

    HEADER = "header"
    FOOTER = "footer"
    FIRST_LINES = "body_first_lines"
    BODY = "body"
    STAMP = "stamp"  # text boxes, shapes, watermarks, PDF form fields and annotations
    PROPERTIES = "properties"  # core/custom document properties, PDF metadata
    SUBJECT = "subject"  # mail subject, document title
    FILENAME = "filename"


class Status(StrEnum):
    OK = "ok"
    UNSUPPORTED = "unsupported"
    ENCRYPTED = "encrypted"
    REFUSED = "refused"  # archive limits (bomb guard) exceeded
    ERROR = "error"


@dataclass(frozen=True)
class Segment:
    zone: Zone
    text: str
    where: str = ""  # part name, page number, field name …
    tabular: bool = False  # rows are lines, cells are tab-separated


@dataclass(frozen=True)
class MsipLabel:
    """A Microsoft Purview / MIP sensitivity label read from a file."""

    label_id: str  # lower-case GUID without braces
    name: str | None = None
    site_id: str | None = None
    enabled: bool = True
    source: str = "custom-properties"  # custom-properties | LabelInfo.xml | msip_labels-header | pdf-metadata


@dataclass(frozen=True)
class Member:
    """A file inside a container (archive member, mail attachment)."""

    name: str
    data: bytes
    status: Status = Status.OK  # e.g. ENCRYPTED for an encrypted zip member: listed, not read
    reason: str | None = None


@dataclass
class Extraction:
    """What an extractor returns: text by zone, labels, embedded members, and a status."""

    format: str
    segments: list[Segment] = field(default_factory=list)
    labels: list[MsipLabel] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    title: str | None = None
    status: Status = Status.OK
    reason: str | None = None

    def add(self, zone: Zone, text: str | None, where: str = "", tabular: bool = False) -> None:
        if text and text.strip():
            self.segments.append(Segment(zone, text, where, tabular))

    def text(self, zones: tuple[Zone, ...] | None = None) -> str:
        """All text (optionally of some zones) joined by newlines. For fingerprints/PII, never for logs."""
        return "\n".join(s.text for s in self.segments if zones is None or s.zone in zones)


@dataclass(frozen=True)
class Evidence:
    """One place where a level or qualifier was found (no document text beyond the marking itself)."""

    level: str | None
    channel: str  # header, footer, body_first_lines, stamp, msip-label, filename, member …
    marking: str  # the matched marking (normalised), e.g. "機密性2情報" or "MSIP:<guid>"
    confidence: float
    where: str = ""


@dataclass
class Classification:
    scheme: str
    level: str | None = None
    rank: int = 0
    qualifiers: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    confidence: float = 0.0
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class PiiSummary:
    counts: dict[str, int] = field(default_factory=dict)  # hits with confidence >= 0.6
    high: dict[str, int] = field(default_factory=dict)  # hits with confidence >= 0.85
    people_estimate: int = 0


@dataclass
class DocumentRecord:
    """One row of the inventory. ``path`` of an archive member is ``outer.zip!/inner/doc.docx``."""

    doc_id: str
    path: str
    size: int
    mtime_ns: int
    sha256: str
    format: str
    status: Status = Status.OK
    reason: str | None = None
    text_sha256: str | None = None
    text_chars: int = 0
    title: str | None = None
    scheme: str = ""
    level: str | None = None
    level_rank: int = 0
    qualifiers: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    confidence: float = 0.0
    evidence: list[dict[str, Any]] = field(default_factory=list)
    pii_counts: dict[str, int] = field(default_factory=dict)
    pii_high: dict[str, int] = field(default_factory=dict)
    people_estimate: int = 0
    fingerprints: frozenset[int] = frozenset()
    container: str | None = None  # path of the enclosing archive / mail, if any
    extracted_at: str = ""
    origin: str = "extracted"  # extracted | unchanged | same-hash (set by the scanner, not stored)

    @property
    def is_member(self) -> bool:
        return self.container is not None

    def summary(self) -> dict[str, Any]:
        """Metadata for printing / JSON (no fingerprints, no text)."""
        return {
            "doc_id": self.doc_id,
            "path": self.path,
            "size": self.size,
            "format": self.format,
            "status": str(self.status),
            "reason": self.reason,
            "sha256": self.sha256,
            "text_sha256": self.text_sha256,
            "title": self.title,
            "scheme": self.scheme,
            "level": self.level,
            "level_rank": self.level_rank,
            "qualifiers": self.qualifiers,
            "channels": self.channels,
            "confidence": self.confidence,
            "pii_counts": self.pii_counts,
            "people_estimate": self.people_estimate,
            "container": self.container,
            "extracted_at": self.extracted_at,
        }
