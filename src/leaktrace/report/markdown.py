"""The incident report as Markdown (charts left out: Markdown viewers differ on inline SVG)."""

from __future__ import annotations

from leaktrace.report.model import ReportData
from leaktrace.report.registry import RenderOptions, report_format
from leaktrace.report.view import Table, build_view


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(tb: Table) -> list[str]:
    out = [f"## {tb.title}", ""]
    if tb.note:
        out += [f"_{tb.note}_", ""]
    if not tb.rows:
        return out + [tb.empty, ""]
    out.append("| " + " | ".join(_cell(h) for h in tb.head) + " |")
    out.append("|" + "---|" * len(tb.head))
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in tb.rows]
    return out + [""]


def render_markdown(data: ReportData, lang: str = "en") -> str:
    v = build_view(data, lang)
    out = [f"# {v.title}", "", f"**{v.tlp}** · {v.subtitle}", "", f"## {v.labels['summary']}", "",
           f"**{v.headline}**", ""]
    out += [f"- **{k}**: {_cell(val)}" for k, val in v.summary]
    out.append("")
    if v.who_acted:
        out += [f"**{v.who_acted[0]}**", ""] + [f"- {r}" for r in v.who_acted[1]] + [""]
    for name in ("documents", "personal_data", "timeline", "actions", "history", "findings", "evidence"):
        out += _table(v.tables[name])
    if v.notes:
        out += [f"## {v.labels['notes']}", ""] + [f"- {n}" for n in v.notes] + [""]
    return "\n".join(out)


@report_format("md", "md", "text/markdown; charset=utf-8", "incident report as Markdown")
def _md(data: ReportData, options: RenderOptions) -> bytes:
    return render_markdown(data, options.lang).encode("utf-8")
