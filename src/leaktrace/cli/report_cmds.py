"""`leaktrace report`: an incident as HTML, PDF, Markdown, JSON, STIX 2.1, a public notice or an evidence zip."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from leaktrace.cli.app import WorkspaceOpt, app, console, open_workspace
from leaktrace.errors import LeaktraceError
from leaktrace.workspace import Workspace


@app.command()
def report(
    incident_id: Annotated[str, typer.Argument(help="Incident id, e.g. INC-0001.")],
    workspace: WorkspaceOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f",
                                     help="html | pdf | md | json | stix | notice | evidence")] = "html",
    lang: Annotated[str, typer.Option(help="Language of the report: ja or en.")] = "ja",
    out: Annotated[Path | None, typer.Option("--out", "-o",
                                             help="Output file (default: reports/<ID>-<lang>.<ext>).")] = None,
    tlp: Annotated[str | None, typer.Option(help="TLP 2.0 of the report: clear, green, amber, amber+strict, red "
                                                 "(default amber).")] = None,
    organisation: Annotated[str | None, typer.Option("--org", help="Reporting organisation's name.")] = None,
    settings_file: Annotated[Path | None, typer.Option("--settings",
                                                       help="Report settings TOML (organisation, tlp, "
                                                            "redaction rules).")] = None,
) -> None:
    """Write an incident's report: the CSIRT report (html, pdf, md, json), a STIX 2.1 bundle for the centre,
    a redacted public notice draft, or an evidence package (zip with a hash manifest)."""
    from leaktrace.report import build_report_data, formats, load_settings, render
    from leaktrace.report.i18n import LANGS
    from leaktrace.report.settings import ReportSettings

    if lang not in LANGS:
        raise LeaktraceError(f"--lang must be one of {', '.join(LANGS)}, not '{lang}'")
    spec = formats.get(fmt)  # unknown formats fail here, naming the known ones
    ws = open_workspace(workspace)
    settings = load_settings(settings_file) if settings_file else getattr(ws.config, "report", None)
    settings = settings or ReportSettings()
    if tlp is not None:
        try:
            settings = ReportSettings.model_validate({**settings.model_dump(), "tlp": tlp.lower()})
        except ValueError:
            raise LeaktraceError(f"--tlp must be one of clear, green, amber, amber+strict, red, not '{tlp}'") from None
    if organisation:
        settings = settings.model_copy(update={"organisation": organisation})
    with console.status(f"gathering {incident_id}…"):
        data = build_report_data(ws, incident_id, settings=settings)
    with console.status(f"rendering {fmt}…"):
        body = render(data, fmt, lang=lang, redaction=settings.redaction)
    suffix = "stix.json" if fmt == "stix" else spec.extension
    target = out or ws.reports_dir / f"{data.incident.id}-{lang}.{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    console.print(f"wrote {target} ({len(body):,} bytes, {fmt}, {lang}, TLP:{data.tlp.upper()})", soft_wrap=True)


def write_reports(ws: Workspace, incident_id: str, fmts: tuple[str, ...] = ("html", "pdf"),
                  lang: str = "ja") -> list[Path]:
    """Write ``fmts`` of one incident into ``reports/`` (one build, several renders); returns the paths."""
    from leaktrace.report import build_report_data, formats, render

    data = build_report_data(ws, incident_id)
    paths = []
    for fmt in fmts:
        suffix = "stix.json" if fmt == "stix" else formats.get(fmt).extension
        path = ws.reports_dir / f"{data.incident.id}-{lang}.{suffix}"
        path.write_bytes(render(data, fmt, lang=lang))
        paths.append(path)
    return paths


def demo_stage(ws: Workspace, sim_dir: Path, truth: dict[str, Any]) -> None:
    """`leaktrace demo`: write the top incident's report (HTML, PDF), STIX bundle and public notice draft."""
    from leaktrace.incidents.store import Store

    incidents = Store.for_workspace(ws).incidents()
    if not incidents:
        console.print("[yellow]no incident to report[/]")
        return
    top = incidents[0]
    console.rule(f"6. report {top.id}: incident report (HTML, PDF), STIX 2.1 for the centre, public notice draft")
    with console.status("writing reports…"):
        try:
            paths = write_reports(ws, top.id, ("html", "pdf", "stix", "notice"))
        except LeaktraceError as exc:  # e.g. WeasyPrint missing: the other formats still help
            console.print(f"[yellow]{exc}[/]")
            paths = write_reports(ws, top.id, ("html", "stix", "notice"))
    for p in paths:
        console.print(f"  {p}", soft_wrap=True)
