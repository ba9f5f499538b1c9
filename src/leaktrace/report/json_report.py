"""The report model as JSON (the records themselves go to the evidence package)."""

from __future__ import annotations

import json

from leaktrace.report.model import ReportData
from leaktrace.report.registry import RenderOptions, report_format


def render_json(data: ReportData) -> str:
    return json.dumps(data.report_json(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


@report_format("json", "json", "application/json", "the report data as JSON (language independent)")
def _json(data: ReportData, options: RenderOptions) -> bytes:
    return render_json(data).encode("utf-8")
