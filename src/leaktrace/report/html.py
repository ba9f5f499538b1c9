"""The incident report as one self-contained HTML page: inline CSS, inline SVG charts, no external resource."""

from __future__ import annotations

from functools import cache
from importlib import resources

from jinja2 import Environment, StrictUndefined

from leaktrace.report.model import ReportData
from leaktrace.report.registry import RenderOptions, report_format
from leaktrace.report.view import build_view

TEMPLATES = resources.files("leaktrace.report") / "templates"


@cache
def _env() -> Environment:
    return Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@cache
def css() -> str:
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


def render_html(data: ReportData, lang: str = "en") -> str:
    """The report as an HTML string (pure)."""
    template = _env().from_string((TEMPLATES / "report.html.j2").read_text(encoding="utf-8"))
    view = build_view(data, lang)
    return template.render(v=view, css=css(), tlp_class=data.tlp.split("+")[0])


@report_format("html", "html", "text/html; charset=utf-8", "incident report, one self-contained HTML page")
def _html(data: ReportData, options: RenderOptions) -> bytes:
    return render_html(data, options.lang).encode("utf-8")
