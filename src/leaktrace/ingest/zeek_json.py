"""Zeek JSON-lines logs (``LogAscii::use_json=T``, or Zeek JSON shipped by Filebeat/Logstash as one object a line).

Each line is parsed on its own; a line that is not a JSON object is quarantined with its number. Values are
turned into Zeek's text form (lists joined with ``,``, booleans as T/F) and go through the same normaliser as
TSV logs, so both give identical rows. The log type comes from ``_path`` or the file name.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pyarrow as pa

from leaktrace.ingest.base import MAX_KEPT_BAD, BadRecord, IngestContext, SourceResult, ingesters
from leaktrace.ingest.normalise import Normaliser, Provenance
from leaktrace.ingest.sources import Source
from leaktrace.ingest.zeek_tsv import ZeekTsvIngester, log_type_from_name
from leaktrace.lake import StagedBatch

ZEEK_KEYS = (b'"uid"', b'"id.orig_h"', b'"_path"', b'"fuid"', b'"id":{"orig_h"')


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, list):
        return ",".join(str(_text(v)) for v in value) if value else "(empty)"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in obj.items():
        if isinstance(v, dict) and k in ("id",):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


class ZeekJsonIngester:
    name: ClassVar[str] = "zeek-json"

    def sniff(self, head: bytes, source_name: str) -> bool:
        first = head.lstrip()[:1]
        if first != b"{":
            return False
        line = head.lstrip().split(b"\n", 1)[0]
        return b'"event_type"' not in line and any(k in line for k in ZEEK_KEYS) and b'"ts"' in line

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult:
        result = SourceResult(format=self.name)
        groups: dict[str, list[dict[str, Any]]] = {}
        lines: dict[str, list[int]] = {}
        consumed = 0
        with source.path.open("rb") as f:
            for line_no, raw in enumerate(f, start=1):
                consumed += len(raw)
                text = raw.strip()
                if not text:
                    continue
                try:
                    obj = json.loads(text)
                    if not isinstance(obj, dict):
                        raise ValueError("not a JSON object")
                except (ValueError, UnicodeDecodeError) as exc:
                    result.bad_count += 1
                    if len(result.bad) < MAX_KEPT_BAD:
                        result.bad.append(BadRecord(line_no, f"not JSON: {exc}"[:200],
                                                    raw.decode("utf-8", "replace")[:2000]))
                    continue
                obj = _flatten(obj)
                log_type = str(obj.pop("_path", "") or log_type_from_name(source.name)).lower()
                groups.setdefault(log_type, []).append(obj)
                lines.setdefault(log_type, []).append(line_no)
                if len(groups[log_type]) >= 200_000:
                    self._flush(log_type, groups.pop(log_type), lines.pop(log_type), source, batch, ctx, result)
                    if ctx.on_progress:
                        ctx.on_progress(consumed)
        for log_type in list(groups):
            self._flush(log_type, groups.pop(log_type), lines.pop(log_type), source, batch, ctx, result)
        if ctx.on_progress:
            ctx.on_progress(consumed)
        return result

    def _flush(
        self,
        log_type: str,
        rows: list[dict[str, Any]],
        line_nos: list[int],
        source: Source,
        batch: StagedBatch,
        ctx: IngestContext,
        result: SourceResult,
    ) -> None:
        fields: list[str] = []
        seen: set[str] = set()
        for r in rows:
            for k in r:
                if k not in seen:
                    seen.add(k)
                    fields.append(k)
        columns = {k: pa.array([_text(r.get(k)) for r in rows], pa.string()) for k in fields}
        columns["_line"] = pa.array(line_nos, pa.int64())
        raw = pa.table(columns)
        normaliser = Normaliser(log_type, fields, None, Provenance(ctx.tenant, ctx.sensor, self.name, source.name))
        try:
            ZeekTsvIngester._normalise(normaliser, raw, batch, result)
        finally:
            normaliser.close()


ingesters.add("zeek-json", ZeekJsonIngester())
