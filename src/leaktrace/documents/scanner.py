"""Walk folders, extract, classify, find personal data and fingerprint every file — incrementally.

Re-scan rule: a file whose (path, size, mtime_ns) equals the previous record is not read at all
(``origin="unchanged"``); one whose mtime changed but whose SHA-256 did not keeps its previous results
(``origin="same-hash"``); everything else is extracted again. Archive members and mail attachments follow
their container. Nothing here logs or prints document text.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leaktrace.config import ClassificationConfig, Config
from leaktrace.documents import fingerprint as fp
from leaktrace.documents.classify import Classifier
from leaktrace.documents.extract import Context, Limits, extract
from leaktrace.documents.model import DocumentRecord, Evidence, Extraction, Segment, Status, Zone
from leaktrace.documents.pii import summarize
from leaktrace.documents.schemes import load_scheme
from leaktrace.errors import LeaktraceError, Location

CONTENT_ZONES = (Zone.HEADER, Zone.FOOTER, Zone.FIRST_LINES, Zone.BODY, Zone.STAMP)
TEXT_HASH_ZONES = (Zone.FIRST_LINES, Zone.BODY)
PII_ZONES = (*CONTENT_ZONES, Zone.PROPERTIES, Zone.SUBJECT)


MAX_ANALYSED_CHARS = 20_000_000  # text beyond this (logs, data dumps) is hashed with the file, not analysed


def _cap_text(ex: Extraction, limit: int) -> None:
    """Keep the first ``limit`` characters of text for classification, PII and fingerprints."""
    total = sum(len(s.text) for s in ex.segments)
    if total <= limit:
        return
    kept, left = [], limit
    for seg in ex.segments:
        if left <= 0:
            break
        kept.append(seg if len(seg.text) <= left else replace(seg, text=seg.text[:left]))
        left -= len(seg.text)
    ex.segments = kept
    note = f"text analysed: first {limit:,} of {total:,} characters"
    ex.reason = f"{ex.reason}; {note}" if ex.reason else note


@dataclass(frozen=True)
class ScanProgress:
    done: int  # top-level files finished
    total: int
    bytes_done: int
    path: str


def doc_id_for(path: str) -> str:
    return hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Regular files under ``paths`` (sorted, symlinks to folders not followed)."""
    for p in paths:
        path = Path(p).absolute()
        if path.is_file():
            yield path
        elif not path.exists():
            raise LeaktraceError("no such file or folder", Location(path=str(path)))
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for f in sorted(files):
                    full = Path(root) / f
                    if full.is_file():
                        yield full


class Scanner:
    """Holds the classifier and limits; ``scan_file`` turns one file into records (its members included)."""

    def __init__(self, config: Config | ClassificationConfig | None = None, limits: Limits | None = None,
                 scheme_base: Path | None = None) -> None:
        cls_cfg = config.classification if isinstance(config, Config) else (config or ClassificationConfig())
        if scheme_base is None and isinstance(config, Config) and config.source_path:
            scheme_base = Path(config.source_path).parent  # a scheme TOML next to leaktrace.toml
        self.classifier = Classifier(load_scheme(cls_cfg.scheme, scheme_base), cls_cfg.msip_labels)
        self.limits = limits or Limits()
        self.max_chars = MAX_ANALYSED_CHARS

    def scan_file(self, path: Path, previous: Mapping[str, DocumentRecord] | None = None) -> list[DocumentRecord]:
        key = str(path)
        try:
            st = path.stat()
        except OSError as exc:
            return [self._failed(key, 0, 0, f"cannot stat: {exc.strerror or exc}")]
        prev = previous.get(key) if previous else None
        if prev is not None and prev.size == st.st_size and prev.mtime_ns == st.st_mtime_ns:
            return [replace(r, origin="unchanged") for r in self._with_members(prev, previous)]
        return self._read(path, st, prev, previous)

    def unchanged(self, path: Path, previous: Mapping[str, DocumentRecord] | None) -> list[DocumentRecord] | None:
        """The previous records if (size, mtime_ns) did not change, else None (the file must be read)."""
        prev = previous.get(str(path)) if previous else None
        if prev is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        if prev.size == st.st_size and prev.mtime_ns == st.st_mtime_ns:
            return [replace(r, origin="unchanged") for r in self._with_members(prev, previous)]
        return None

    def _read(self, path: Path, st: os.stat_result, prev: DocumentRecord | None,
              previous: Mapping[str, DocumentRecord] | None) -> list[DocumentRecord]:
        key = str(path)
        if st.st_size > self.limits.max_file_bytes:
            return [self._too_large(path, st.st_size, st.st_mtime_ns)]
        try:
            data = path.read_bytes()
        except OSError as exc:
            return [self._failed(key, st.st_size, st.st_mtime_ns, f"cannot read: {exc.strerror or exc}")]
        sha = hashlib.sha256(data).hexdigest()
        if prev is not None and prev.sha256 == sha:
            return [replace(r, size=st.st_size if r is prev else r.size, mtime_ns=st.st_mtime_ns, origin="same-hash")
                    for r in self._with_members(prev, previous)]
        ctx = Context(limits=self.limits)
        return self.scan_bytes(data, key, st.st_mtime_ns, ctx, container=None, sha=sha)

    def scan_bytes(self, data: bytes, path: str, mtime_ns: int, ctx: Context, container: str | None,
                   sha: str | None = None) -> list[DocumentRecord]:
        """Records for one blob and, recursively, its members (``path!/member``)."""
        ex = extract(data, path, ctx)
        _cap_text(ex, self.max_chars)
        basename = path.rsplit("!/", 1)[-1].replace("\\", "/").rsplit("/", 1)[-1]
        ex.segments.append(_filename_segment(basename))
        rec = self._record(ex, data, path, mtime_ns, container, sha)
        out = [rec]
        member_records: list[DocumentRecord] = []
        for m in ex.members:
            mpath = f"{path}!/{m.name}"
            if m.status != Status.OK:
                member_records.append(self._listed(mpath, m.data, mtime_ns, path, m.status, m.reason or ""))
            elif ctx.depth + 1 > self.limits.max_depth:
                member_records.append(self._listed(mpath, m.data, mtime_ns, path, Status.REFUSED,
                                                   f"limit exceeded: nested deeper than {self.limits.max_depth}"))
            else:
                child = Context(self.limits, ctx.budget, ctx.depth + 1)
                member_records.extend(self.scan_bytes(m.data, mpath, mtime_ns, child, container=path))
        if member_records:
            _roll_up(rec, [r for r in member_records if r.container == path])
        return out + member_records

    def blob_fingerprints(self, data: bytes, name: str = "blob") -> frozenset[int]:
        """Fingerprints of everything readable in a blob (e.g. a captured upload, archives unpacked),
        for ``Inventory.match_fingerprint``."""
        out: set[int] = set()
        for rec in self.scan_bytes(data, name, 0, Context(limits=self.limits), container=None):
            out |= rec.fingerprints
        return frozenset(out)

    # -- records -------------------------------------------------------------------------------------------
    def _record(self, ex: Extraction, data: bytes, path: str, mtime_ns: int, container: str | None,
                sha: str | None) -> DocumentRecord:
        cls = self.classifier.classify(ex)
        rec = DocumentRecord(
            doc_id=doc_id_for(path), path=path, size=len(data), mtime_ns=mtime_ns,
            sha256=sha or hashlib.sha256(data).hexdigest(), format=ex.format, status=ex.status, reason=ex.reason,
            title=ex.title[:300] if ex.title else None, scheme=cls.scheme, level=cls.level, level_rank=cls.rank,
            qualifiers=cls.qualifiers, channels=cls.channels, confidence=cls.confidence,
            evidence=[_ev(e) for e in cls.evidence], container=container, extracted_at=_now(),
        )
        if ex.status == Status.OK:
            body = ex.text(TEXT_HASH_ZONES)
            content = ex.text(CONTENT_ZONES)
            rec.text_sha256 = fp.text_sha256(body) if body.strip() else fp.text_sha256(content)
            rec.text_chars = len(content)
            rec.fingerprints = fp.fingerprints(content)
            pii = summarize(s for s in ex.segments if s.zone in PII_ZONES)
            rec.pii_counts, rec.pii_high, rec.people_estimate = pii.counts, pii.high, pii.people_estimate
        return rec

    def _listed(self, path: str, data: bytes, mtime_ns: int, container: str, status: Status,
                reason: str) -> DocumentRecord:
        ex = Extraction(format=path.rsplit(".", 1)[-1].lower() if "." in path else "", status=status, reason=reason)
        ex.segments.append(_filename_segment(path.rsplit("/", 1)[-1]))
        return self._record(ex, data, path, mtime_ns, container, None)

    def _too_large(self, path: Path, size: int, mtime_ns: int) -> DocumentRecord:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(4 * 1024 * 1024), b""):
                h.update(chunk)
        ex = Extraction(format=path.suffix.lstrip(".").lower(), status=Status.UNSUPPORTED,
                        reason=f"larger than {self.limits.max_file_bytes} bytes: hashed, not extracted")
        ex.segments.append(_filename_segment(path.name))
        rec = self._record(ex, b"", str(path), mtime_ns, None, h.hexdigest())
        rec.size = size
        return rec

    def _failed(self, path: str, size: int, mtime_ns: int, reason: str) -> DocumentRecord:
        return DocumentRecord(doc_id=doc_id_for(path), path=path, size=size, mtime_ns=mtime_ns, sha256="",
                              format="", status=Status.ERROR, reason=reason, extracted_at=_now())

    @staticmethod
    def _with_members(prev: DocumentRecord, previous: Mapping[str, DocumentRecord] | None) -> list[DocumentRecord]:
        if not previous:
            return [prev]
        prefix = prev.path + "!/"
        members = getattr(previous, "members_of", None)
        if callable(members):
            return [prev, *members(prev.path)]
        return [prev, *(r for p, r in previous.items() if p.startswith(prefix))]


class PreviousIndex(dict[str, DocumentRecord]):
    """Previous records by path, with members grouped by top-level container (fast incremental lookups)."""

    def __init__(self, records: Iterable[DocumentRecord]) -> None:
        super().__init__()
        self._members: dict[str, list[DocumentRecord]] = {}
        for r in records:
            self[r.path] = r
            if "!/" in r.path:
                self._members.setdefault(r.path.split("!/", 1)[0], []).append(r)

    def members_of(self, path: str) -> list[DocumentRecord]:
        return self._members.get(path, [])


def _filename_segment(name: str) -> Segment:
    return Segment(Zone.FILENAME, name, "filename")


def _ev(e: Evidence) -> dict[str, Any]:
    return {"level": e.level, "channel": e.channel, "marking": e.marking, "confidence": e.confidence, "where": e.where}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _roll_up(rec: DocumentRecord, children: list[DocumentRecord]) -> None:
    """A container takes the highest level of its members (channel ``member``) and adds up their PII counts
    and people estimates (an upper bound: the same person may appear in several members)."""
    top = max(children, key=lambda r: r.level_rank)
    if top.level and top.level_rank > rec.level_rank:
        rec.level, rec.level_rank, rec.confidence = top.level, top.level_rank, top.confidence
        rec.channels = ["member"]
        rec.evidence.append(_ev(Evidence(top.level, "member", top.path.rsplit("!/", 1)[-1], top.confidence)))
    for child in children:
        for k, v in child.pii_counts.items():
            rec.pii_counts[k] = rec.pii_counts.get(k, 0) + v
        for k, v in child.pii_high.items():
            rec.pii_high[k] = rec.pii_high.get(k, 0) + v
        rec.people_estimate += child.people_estimate
        rec.qualifiers += [q for q in child.qualifiers if q not in rec.qualifiers]


_WORKER: Scanner | None = None


def _init_worker(config: Config | ClassificationConfig | None, limits: Limits | None) -> None:
    global _WORKER
    _WORKER = Scanner(config, limits)


def _work(path: Path, previous: PreviousIndex | None) -> list[DocumentRecord]:
    assert _WORKER is not None
    return _WORKER.scan_file(path, previous)


def _previous_index(previous: Any) -> PreviousIndex | None:
    if previous is None:
        return None
    if isinstance(previous, PreviousIndex):
        return previous
    records = previous.all() if hasattr(previous, "all") else (
        previous.values() if isinstance(previous, Mapping) else previous)
    return PreviousIndex(records)


def scan(paths: Iterable[str | Path], config: Config | ClassificationConfig | None = None,
         previous: Any = None, progress: Callable[[ScanProgress], None] | None = None,
         limits: Limits | None = None, workers: int = 1) -> Iterator[DocumentRecord]:
    """Scan files and folders; yield one record per file, archive member and attachment, in path order.

    ``previous`` is an ``Inventory``, a mapping path → record, or an iterable of records; unchanged files
    are yielded with ``origin="unchanged"`` without being read. ``workers > 1`` extracts in that many
    processes (the unchanged-file check stays in this process).
    """
    scanner = Scanner(config, limits)
    prev_index = _previous_index(previous)
    files = list(iter_files(paths))
    done_bytes = 0

    def report(i: int, path: Path, recs: list[DocumentRecord]) -> None:
        nonlocal done_bytes
        done_bytes += recs[0].size if recs else 0
        if progress is not None:
            progress(ScanProgress(i + 1, len(files), done_bytes, str(path)))

    if workers <= 1:
        for i, path in enumerate(files):
            recs = scanner.scan_file(path, prev_index)
            yield from recs
            report(i, path, recs)
        return
    window = workers * 16
    pending: deque[tuple[int, Path, list[DocumentRecord] | Future[list[DocumentRecord]]]] = deque()
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(config, limits)) as pool:
        for i, path in enumerate(files):
            quick = scanner.unchanged(path, prev_index)
            if quick is not None:
                pending.append((i, path, quick))
            else:
                prev = prev_index.get(str(path)) if prev_index else None
                sub = PreviousIndex([prev, *prev_index.members_of(prev.path)]) if prev and prev_index else None
                pending.append((i, path, pool.submit(_work, path, sub)))
            while pending and (len(pending) > window or not isinstance(pending[0][2], Future)
                               or pending[0][2].done()):
                j, p, job = pending.popleft()
                recs = job.result() if isinstance(job, Future) else job
                yield from recs
                report(j, p, recs)
        while pending:
            j, p, job = pending.popleft()
            recs = job.result() if isinstance(job, Future) else job
            yield from recs
            report(j, p, recs)
