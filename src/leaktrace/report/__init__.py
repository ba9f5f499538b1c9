"""Reports of an incident: HTML, PDF, Markdown, JSON, a STIX 2.1 bundle, a redacted public notice and an evidence
package, in Japanese and English.

``build_report_data(ws, incident_id)`` gathers everything (the only I/O); every renderer is a pure function of
the resulting :class:`ReportData`::

    data = build_report_data(ws, "INC-0001")
    pdf = render(data, "pdf", lang="ja")

Names are imported lazily, so ``leaktrace.config`` can import :mod:`leaktrace.report.settings` cheaply; the
built-in formats register themselves on first use of ``formats``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leaktrace.report.builder import build_report_data
    from leaktrace.report.model import ReportData
    from leaktrace.report.registry import RenderOptions, ReportFormat, formats, render
    from leaktrace.report.settings import RedactionRules, ReportSettings, load_settings

_WHERE = {
    "build_report_data": "builder", "ReportData": "model", "RenderOptions": "registry",
    "ReportFormat": "registry", "formats": "registry", "render": "registry", "RedactionRules": "settings",
    "ReportSettings": "settings", "load_settings": "settings",
}
__all__ = [
    "RedactionRules", "RenderOptions", "ReportData", "ReportFormat", "ReportSettings", "build_report_data",
    "formats", "load_settings", "render",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"leaktrace.report.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'leaktrace.report' has no attribute '{name}'")
