"""The audit log's hash chain: each entry's hash covers its fields and the previous entry's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from leaktrace.respond.db import AuditRow

GENESIS = "0" * 64
HASHED_FIELDS = ("id", "at", "actor", "event", "action_id", "incident_id", "target", "backend", "rule_text",
                 "reason", "prev_hash")


def entry_hash(fields: dict[str, object]) -> str:
    """SHA-256 of the canonical JSON of the hashed fields."""
    doc = {name: fields.get(name) for name in HASHED_FIELDS}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def row_fields(row: AuditRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in HASHED_FIELDS}


@dataclass(frozen=True)
class AuditCheck:
    ok: bool
    entries: int
    head: str
    bad_id: int | None = None
    problem: str = ""


def verify_chain(rows: Iterable[AuditRow]) -> AuditCheck:
    """Walk the chain in id order; the first entry whose link or hash does not match is reported."""
    prev = GENESIS
    count = 0
    for row in rows:
        count += 1
        if row.prev_hash != prev:
            return AuditCheck(False, count, prev, row.id, f"entry {row.id} does not follow entry before it "
                                                          "(an entry was removed or inserted)")
        if entry_hash(row_fields(row)) != row.hash:
            return AuditCheck(False, count, prev, row.id, f"entry {row.id} was modified after it was written")
        prev = row.hash
    return AuditCheck(True, count, prev)
