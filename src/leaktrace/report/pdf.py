"""The incident report as PDF: the HTML report laid out by WeasyPrint (Japanese text needs a CJK font such as
IPAex Gothic, Debian ``fonts-ipaexfont-gothic`` (fastest), or Noto Sans CJK JP, ``fonts-noto-cjk``; WeasyPrint needs ``libpango-1.0-0 libpangoft2-1.0-0``)."""

from __future__ import annotations

from leaktrace.errors import LeaktraceError
from leaktrace.report.html import render_html
from leaktrace.report.model import ReportData
from leaktrace.report.registry import RenderOptions, report_format


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    """The report is self-contained: refuse any URL WeasyPrint would fetch."""
    raise LeaktraceError(f"the PDF report must not load external resources ({url})")


# Every embedded face is subset. With HarfBuzz-Subset (Debian ``libharfbuzz-subset0``) that is fast for any font;
# without it WeasyPrint falls back to fontTools, which takes many seconds per CFF-based Noto CJK face. Then the PDF
# uses one regular face (IPAex Gothic first: TrueType, subset in a fraction of a second) and shows emphasis by
# colour and size instead of weight.
FAST_CSS = """
html, body, table, svg text, td.hash {
  font-family: "Noto Sans CJK JP", "IPAexGothic", "IPAGothic", "Noto Sans JP", sans-serif !important; }
"""
ONE_FACE_CSS = """
html, body, table, svg text, td.hash {
  font-family: "IPAexGothic", "IPAGothic", "Noto Sans CJK JP", "Noto Sans JP", sans-serif !important; }
h1, h2, th, strong, b, .headline, .tlp { font-weight: normal !important; }
h2 { text-decoration: underline; text-decoration-color: #c8d1dc; }
"""


def fast_subsetting() -> bool:
    """Whether WeasyPrint found HarfBuzz-Subset."""
    try:
        from weasyprint.text import ffi
    except (ImportError, OSError):
        return False
    return bool(getattr(ffi, "harfbuzz_subset", None))


def render_pdf(data: ReportData, lang: str = "en") -> bytes:
    try:
        from weasyprint import CSS, HTML
    except (ImportError, OSError) as exc:  # OSError: pango missing
        raise LeaktraceError(
            "PDF reports need WeasyPrint: pip install weasyprint; apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0 fonts-noto-cjk ({exc})"
        ) from None
    html = render_html(data, lang)
    pdf = HTML(string=html, url_fetcher=_no_fetch).write_pdf(
        stylesheets=[CSS(string=FAST_CSS if fast_subsetting() else ONE_FACE_CSS)], hinting=True
    )
    assert isinstance(pdf, bytes)
    return pdf


@report_format("pdf", "pdf", "application/pdf", "incident report as PDF (WeasyPrint)")
def _pdf(data: ReportData, options: RenderOptions) -> bytes:
    return render_pdf(data, options.lang)
