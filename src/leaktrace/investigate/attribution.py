"""Attribution: which documents an incident probably took, with confidence, level and evidence.

The reasoning, step by step (each step leaves evidence on the documents it touches):

1. **Actors**: processes on the host that talked to the incident's servers, with their descendants and
   non-launcher ancestors (:mod:`leaktrace.investigate.actors`).
2. **Uploads**: flows from the host to those servers whose bytes out stand well above the channel's usual
   (beacon-sized) flows; their end bounds what can have been sent.
3. **Reads**: files the actors read (or copied) before the last upload, matched to the inventory by path
   (:mod:`leaktrace.investigate.paths`) and by hash where the event has one. Reads after the last upload
   cannot be in it and score low.
4. **Archives**: archives the actors wrote after reading and before uploading raise confidence.
5. **Sizes**: the bytes uploaded (or the archive size) against the sum of the candidates' sizes; documents
   in Office/PDF formats barely compress, so a ratio near 1 supports the set, a ratio far below it says that
   not all candidates left.
6. **Payload**: a file seen on the wire (cleartext HTTP/SMB/FTP/SMTP) whose hash is an inventory document's
   hash is direct evidence.
"""

from __future__ import annotations

import statistics
from datetime import datetime

from leaktrace.config import Strict
from leaktrace.investigate.actors import Actors, basename, find_actors
from leaktrace.investigate.case import Case, Row, record_ref
from leaktrace.investigate.model import (
    Attribution,
    DocRef,
    Evidence,
    Rollup,
    TakenDocument,
)
from leaktrace.investigate.objects import DUMP_EXT, describe, staged_objects
from leaktrace.investigate.paths import PathIndex
from leaktrace.investigate.remote import remote_control
from leaktrace.investigate.timeline import build_timeline

ARCHIVE_EXT = (".zip", ".7z", ".rar", ".cab", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".lzh", *DUMP_EXT)
READ_ACTIONS = {"read", "open", "copy", "share-access"}
WRITE_ACTIONS = {"create", "write", "rename"}


class AttributionParams(Strict):
    """Thresholds of attribution (``[investigate]`` in the config)."""

    upload_factor: float = 8.0  # a flow is an upload when bytes_out >= factor x the channel's median flow
    upload_min_bytes: int = 64_000  # ... and at least this many bytes
    taken_threshold: float = 0.5  # confidence from which a document counts as taken
    size_ratio_low: float = 0.3  # uploaded/read below this: not everything read left
    size_ratio_high: float = 1.6  # above this: something else left too


def _uploads(case: Case, p: AttributionParams, channel: set[str]) -> list[Row]:
    """Flows to the incident's servers that are uploads: well above the implant channel's usual flow.

    The usual flow is the median over every server the implant talks to (beacons included), so an
    exfiltration server that only ever received uploads is still measured against the beacons.
    """
    servers = set(case.servers)
    mine = [c for c in case.conn if c.get("src_ip") == case.host_ip]
    baseline = [int(c.get("bytes_out") or 0) for c in mine if c.get("dst_ip") in channel | servers]
    if not baseline:
        return []
    cut = max(p.upload_min_bytes, statistics.median(baseline) * p.upload_factor)
    return sorted((c for c in mine if c.get("dst_ip") in servers and int(c.get("bytes_out") or 0) >= cut),
                  key=lambda c: c["ts"])


def _end(row: Row) -> datetime:
    from datetime import timedelta

    return row["ts"] + timedelta(seconds=float(row.get("duration") or 0.0))


def attribute(case: Case, inventory: list[DocRef], params: AttributionParams | None = None) -> Attribution:
    p = params or AttributionParams()
    actors = find_actors(case)
    uploads = _uploads(case, p, actors.servers)
    last_upload = max((_end(u) for u in uploads), default=None)
    bytes_uploaded = sum(int(u.get("bytes_out") or 0) for u in uploads)
    index = PathIndex(inventory)
    by_hash = {d.sha256: d for d in inventory if d.sha256}
    notes: list[str] = []
    if case.clock_note:
        notes.append(case.clock_note)
    if not actors.guids and not actors.pid_images:
        notes.append("no endpoint connection to the server was found: actor processes unknown")

    reads = [f for f in case.file_event if (f.get("action") or "") in READ_ACTIONS and actors.has(f)]
    archives = [
        f for f in case.file_event
        if (f.get("action") or "") in WRITE_ACTIONS and actors.has(f)
        and (f.get("path") or f.get("target_path") or "").casefold().endswith(ARCHIVE_EXT)
    ]
    objects, object_notes = staged_objects(case, actors, archives, uploads)
    notes.extend(object_notes)
    writes = archives
    archives = [a for a in writes if not (a.get("path") or a.get("target_path") or "").casefold().endswith(DUMP_EXT)]
    docs: dict[str, TakenDocument] = {}
    for f in sorted(reads, key=lambda r: r["ts"]):
        path = f.get("path") or ""
        if not path or path.casefold().endswith(ARCHIVE_EXT) and any(a.get("path") == path for a in writes):
            continue
        inv = by_hash.get(str(f["sha256"])) if f.get("sha256") else None
        inv = inv or index.match(path)
        key = inv.path if inv else path.casefold()
        if key in docs:
            continue
        before_upload = last_upload is None or f["ts"] <= last_upload
        confidence = 0.7 if before_upload else 0.15
        ev = [Evidence(kind="read-by-actor", detail=f"read by {basename(f.get('image')) or 'actor process'}",
                       ts=f["ts"], record=record_ref(f))]
        if not before_upload:
            ev.append(Evidence(kind="read-after-upload", detail="read after the last upload ended", ts=f["ts"]))
        later_archive = next((a for a in archives if a["ts"] >= f["ts"]
                              and (last_upload is None or a["ts"] <= last_upload)), None)
        if later_archive is not None and before_upload:
            confidence += 0.1
            ev.append(Evidence(kind="archived-after-read",
                               detail=f"archive {later_archive.get('path')} written after the read",
                               ts=later_archive["ts"], record=record_ref(later_archive)))
        docs[key] = TakenDocument(
            path=path,
            inventory_path=inv.path if inv else None,
            sha256=inv.sha256 if inv else f.get("sha256"),
            size=inv.size if inv else f.get("size"),
            level=inv.level if inv else None,
            level_rank=inv.level_rank if inv else 0,
            qualifiers=inv.qualifiers if inv else [],
            people=inv.people if inv else 0,
            pii_counts=inv.pii_counts if inv else {},
            confidence=confidence,
            first_read=f["ts"],
            process=f.get("image"),
            evidence=ev,
        )
        if inv is None:
            notes.append(f"read of {path} has no inventory match (scan that share to know its level)")

    # payload: a document's hash seen on the wire going out
    for nf in case.net_files:
        ref = by_hash.get(str(nf.get("sha256") or ""))
        if ref is None:
            continue
        doc = docs.get(ref.path)
        hit = Evidence(kind="payload-hash", detail=f"file {nf.get('filename') or ''} on the wire has its SHA-256",
                      ts=nf.get("ts"), record=record_ref(nf))
        if doc is None:
            docs[ref.path] = TakenDocument(path=ref.path, inventory_path=ref.path, sha256=ref.sha256, size=ref.size,
                                           level=ref.level, level_rank=ref.level_rank, qualifiers=ref.qualifiers,
                                           people=ref.people, pii_counts=ref.pii_counts, confidence=0.95,
                                           first_read=nf.get("ts"), evidence=[hit])
        else:
            doc.confidence = max(doc.confidence, 0.95)
            doc.evidence.append(hit)

    candidates = [d for d in docs.values() if d.confidence >= p.taken_threshold]
    bytes_read = sum(c.size or 0 for c in candidates)
    archive_bytes = max((int(a.get("size") or 0) for a in archives), default=0) or None
    ratio = (bytes_uploaded / bytes_read) if bytes_read and bytes_uploaded else None
    if ratio is not None:
        if p.size_ratio_low <= ratio <= p.size_ratio_high:
            for c in candidates:
                c.confidence = min(0.99, c.confidence + 0.1)
                c.evidence.append(Evidence(kind="size-consistent",
                                           detail=f"{bytes_uploaded:,} bytes uploaded for {bytes_read:,} bytes read "
                                                  f"(ratio {ratio:.2f})"))
        elif ratio < p.size_ratio_low:
            notes.append(f"only {bytes_uploaded:,} bytes were uploaded for {bytes_read:,} bytes read: "
                         "not every document read left through the observed uploads")
            for c in candidates:
                c.confidence = max(0.3, c.confidence - 0.2)
        else:
            notes.append(f"{bytes_uploaded:,} bytes uploaded exceed the {bytes_read:,} bytes of documents read: "
                         "more data than the identified documents left")
    documents = sorted(docs.values(), key=lambda t: (-t.confidence, -(t.level_rank or 0), t.path))
    rollup = _rollup([t for t in documents if t.confidence >= p.taken_threshold], bytes_uploaded, archive_bytes,
                     ratio)
    also = describe(objects, p.taken_threshold)
    if also:
        rollup.sentence += f"; {also}"
    return Attribution(
        host_ip=case.host_ip,
        host=case.host,
        servers=case.servers,
        actor_processes=[{"image": r.get("image"), "pid": r.get("pid"), "process_guid": r.get("process_guid"),
                          "parent_image": r.get("parent_image"), "command_line": r.get("command_line"),
                          "ts": r.get("ts")} for r in actors.processes],
        documents=documents,
        objects=objects,
        rollup=rollup,
        timeline=build_timeline(case, actors, uploads, reads, writes),
        remote_control=remote_control(case, actors, reads + writes + uploads),
        notes=notes,
    )


def _rollup(taken: list[TakenDocument], uploaded: int, archive_bytes: int | None, ratio: float | None) -> Rollup:
    by_level: dict[str, int] = {}
    for d in taken:
        by_level[d.level or "unknown"] = by_level.get(d.level or "unknown", 0) + 1
    top = max(taken, key=lambda d: d.level_rank, default=None)
    highest = top.level if top and top.level_rank > 0 else None
    with_pii = [d for d in taken if d.people > 0 or sum(d.pii_counts.values()) > 0]
    people = sum(d.people for d in taken)
    sentence = f"{len(taken)} documents, highest level {highest or 'unknown'}"
    if with_pii:
        sentence += f", {len(with_pii)} contain personal data of {people} people"
    return Rollup(documents=len(taken), highest_level=highest, highest_rank=top.level_rank if top else 0,
                  by_level=by_level, with_personal_data=len(with_pii), people=people,
                  bytes_read=sum(d.size or 0 for d in taken), bytes_uploaded=uploaded,
                  archive_bytes=archive_bytes, size_ratio=ratio, sentence=sentence)


__all__ = ["Actors", "AttributionParams", "attribute"]
