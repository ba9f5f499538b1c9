"""Objects the actors made and probably sent that are not inventory documents: archives and memory dumps.

An attacker rarely sends documents one by one: it packs them, or (for credentials) dumps LSASS and downloads
the dump over the command-and-control channel. For each archive or dump file that an actor process wrote,
the evidence is weighed:

* written by an actor process (the implant or what it started): the base confidence;
* the channel (a flow to the incident's servers or the implant's C2 set) was active after the write: the
  object could have been fetched over it (a C2 "download" of a file is an upload from the host);
* an upload to those servers followed the write, and its bytes are consistent with the object's size.

The sensor may not see the volume (Zeek shows ``orig_bytes=0`` when checksum offload hides a local host's
packets); a note says so rather than lowering the confidence silently.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from leaktrace.hostdetect.rules import dumps_lsass, inferred_rule
from leaktrace.investigate.actors import Actors, basename
from leaktrace.investigate.case import Case, Row, record_ref
from leaktrace.investigate.model import Evidence, TakenDocument

DUMP_EXT = (".dmp", ".mdmp")
BASE = 0.5
CHANNEL_AFTER = 0.15
UPLOAD_AFTER = 0.15
SIZE_CONSISTENT = 0.1


def _end(row: Row) -> datetime:
    ts: datetime = row["ts"]
    return ts + timedelta(seconds=float(row.get("duration") or 0.0))


def object_kind(row: Row) -> str:
    path = (row.get("path") or row.get("target_path") or "").casefold()
    if path.endswith(DUMP_EXT):
        if dumps_lsass(path, row):
            return "credential-dump"
        return "memory-dump"
    return "archive"


def staged_objects(case: Case, actors: Actors, writes: list[Row], uploads: list[Row]) -> tuple[list[TakenDocument],
                                                                                                 list[str]]:
    """(objects, notes) for the archive/dump files in ``writes`` (already limited to actor processes)."""
    channel = set(actors.servers) | set(case.servers)
    flows = [c for c in case.conn if c.get("src_ip") == case.host_ip and c.get("dst_ip") in channel]
    out: dict[str, TakenDocument] = {}
    notes: list[str] = []
    for w in sorted(writes, key=lambda r: r["ts"]):
        path = w.get("path") or w.get("target_path") or ""
        key = path.casefold()
        if not path or key in out:
            continue
        size = int(w.get("size") or 0) or None
        kind = object_kind(w)
        confidence = BASE
        how = "inferred from its command line" if inferred_rule(w) else "file event"
        ev = [Evidence(kind="written-by-actor", detail=f"written by {basename(w.get('image')) or 'an actor'} ({how})",
                       ts=w["ts"], record=record_ref(w))]
        after = [f for f in flows if _end(f) >= w["ts"]]
        if after:
            confidence += CHANNEL_AFTER
            last = max(_end(f) for f in after)
            ev.append(Evidence(kind="channel-active-after-write",
                               detail=f"{len(after)} flows to {', '.join(sorted({str(f['dst_ip']) for f in after}))} "
                                      f"after the write (until {last:%Y-%m-%d %H:%M:%S} UTC)"))
        sent = [u for u in uploads if _end(u) >= w["ts"]]
        sent_bytes = sum(int(u.get("bytes_out") or 0) for u in sent)
        if sent:
            confidence += UPLOAD_AFTER
            ev.append(Evidence(kind="upload-after-write",
                               detail=f"{len(sent)} uploads ({sent_bytes:,} bytes) after the write"))
            if size and 0.5 * size <= sent_bytes <= 2.0 * size:
                confidence += SIZE_CONSISTENT
                ev.append(Evidence(kind="size-consistent",
                                   detail=f"{sent_bytes:,} bytes uploaded for a {size:,}-byte object"))
        elif after:
            out_bytes = sum(int(f.get("bytes_out") or 0) for f in after)
            notes.append(f"{path}: the channel was active after it was written, but the sensor shows "
                         f"{out_bytes:,} bytes sent on it — the volume of a download over the C2 cannot be "
                         "confirmed from these flows (a sensor on the host's own segment often misses them)")
        out[key] = TakenDocument(kind=kind, path=path, sha256=w.get("sha256"), size=size,
                                 confidence=round(min(0.99, confidence), 3), first_read=w["ts"],
                                 process=w.get("image"), evidence=ev)
    objects = sorted(out.values(), key=lambda t: (-t.confidence, t.path))
    return objects, notes


def describe(objects: list[TakenDocument], threshold: float) -> str:
    taken = [o for o in objects if o.confidence >= threshold]
    if not taken:
        return ""
    counts: dict[str, int] = {}
    for o in taken:
        counts[o.kind] = counts.get(o.kind, 0) + 1
    parts = [f"{n} {k}{'s' if n > 1 else ''}" for k, n in sorted(counts.items())]
    names = ", ".join(basename(o.path) for o in taken[:3])
    return f"also {', '.join(parts)} ({names})"


def as_dict(obj: TakenDocument) -> dict[str, Any]:
    return obj.model_dump(mode="json")
