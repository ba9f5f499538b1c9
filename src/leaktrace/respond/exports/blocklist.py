"""Plain blocklists: CSV (``value,type,expires,incident,action,reason``) and JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime

from leaktrace.respond.exports.base import ExportBlocker, iso, ordered
from leaktrace.respond.model import BlockRule, utcnow

COLUMNS = ["value", "type", "expires", "incident", "action", "reason"]


def _cell(text: str) -> str:
    """No spreadsheet formulas from a free-text reason."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _row(rule: BlockRule) -> dict[str, str]:
    return {
        "value": rule.value, "type": rule.kind, "expires": iso(rule.expires), "incident": rule.incident_id or "",
        "action": rule.action_id or "", "reason": _cell(rule.reason),
    }


class CsvExport(ExportBlocker):
    name = "csv"
    filename = "blocklist.csv"

    def lines(self, rule: BlockRule) -> list[str]:
        return [self._csv([_row(rule)], header=False).rstrip("\n")]

    @staticmethod
    def _csv(rows: list[dict[str, str]], header: bool = True) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        if header:
            writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()

    def render(self, rules: Sequence[BlockRule], generated: datetime | None = None) -> str:
        return self._csv([_row(r) for r in ordered(rules)])


class JsonExport(ExportBlocker):
    name = "json"
    filename = "blocklist.json"

    def lines(self, rule: BlockRule) -> list[str]:
        return [json.dumps(_row(rule), ensure_ascii=False)]

    def render(self, rules: Sequence[BlockRule], generated: datetime | None = None) -> str:
        doc = {
            "generator": "leaktrace",
            "generated": iso(generated or utcnow()),
            "blocks": [_row(r) for r in ordered(rules)],
        }
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
