"""HTML, Markdown, JSON and PDF of a hand-built report, in Japanese and English."""

from __future__ import annotations

import io
import json
import re

import pytest

from leaktrace.report import ReportData, formats, render
from leaktrace.report.i18n import CATALOGUE, missing_keys, tr
from leaktrace.report.markdown import render_markdown
from tests.report.sample import DOC2, DOC3, HOST_IP, HOST_NAME, SERVER_DOMAIN, sample_data

LANGS = ["ja", "en"]


def test_builtin_formats_are_registered() -> None:
    assert {"html", "pdf", "md", "json", "stix", "notice", "evidence"} <= set(formats.names())


def test_catalogue_is_complete_in_both_languages() -> None:
    assert missing_keys() == {"ja": [], "en": []}
    assert tr("ja", "host") == "端末" and tr("en", "host") == "Host"
    assert tr("ja", "kind.something-new") == "something-new"  # readable fallback
    assert len(CATALOGUE["ja"]) > 100


@pytest.mark.parametrize("lang", LANGS)
def test_html_is_self_contained_and_complete(lang: str) -> None:
    data = sample_data()
    html = render(data, "html", lang=lang).decode("utf-8")
    assert html == render(data, "html", lang=lang).decode("utf-8")  # pure, deterministic
    assert HOST_NAME in html and HOST_IP in html and SERVER_DOMAIN in html
    assert "機密性2" in html and "機密性3" in html
    assert tr(lang, "documents_taken") in html and DOC2.replace("\\", "\\") in html
    assert "関係ない.docx" not in html  # below the confidence threshold: not listed as taken
    assert html.count("<svg") == 3 and "<rect" in html
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<(link|script|img|iframe)\b", html) and "url(" not in html
    assert f'<html lang="{lang}">' in html
    assert tr(lang, "personal_data") in html and tr(lang, "pii.my_number") in html
    assert tr(lang, "timeline") in html and "T1041" in html
    assert "ACT-0001" in html and tr(lang, "action.block") in html
    assert tr(lang, "history") in html and f"{tr(lang, 'status.new')} → {tr(lang, 'status.contained')}" in html
    assert "TLP:AMBER" in html
    for label in ("summary", "evidence", "charts", "chart_traffic", "chart_beacon", "chart_levels"):
        assert tr(lang, label) in html


def test_html_escapes_untrusted_text() -> None:
    data = sample_data()
    data.findings[0].summary = "<script>alert(1)</script>"
    html = render(data, "html").decode()
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("lang", LANGS)
def test_markdown_has_the_tables(lang: str) -> None:
    md = render_markdown(sample_data(), lang)
    assert md.startswith(f"# {tr(lang, 'incident_report')} INC-0007")
    assert f"## {tr(lang, 'documents_taken')}" in md
    assert "| 機密性3 |" in md and HOST_NAME in md
    assert "職員名簿_2026.xlsx" in md


def test_json_round_trips_without_records() -> None:
    data = sample_data()
    raw = json.loads(render(data, "json"))
    assert "records" not in raw and raw["incident"]["host_ip"] == HOST_IP
    back = ReportData.model_validate(raw)
    assert back.model_dump(exclude={"records"}) == data.model_dump(exclude={"records"})


def test_empty_report_renders() -> None:
    data = sample_data()
    data.attribution = None
    data.actions = []
    data.charts.traffic = []
    data.charts.beacon_intervals = []
    for lang in LANGS:
        html = render(data, "html", lang=lang).decode()
        assert tr(lang, "no_documents") in html and tr(lang, "no_actions") in html and "<svg" in html
        assert tr(lang, "no_data") in html


def _weasyprint() -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: libpango missing
        pytest.skip(f"WeasyPrint cannot be loaded here ({exc}); PDF reports need it")


@pytest.mark.parametrize("lang", LANGS)
def test_pdf_renders_with_host_and_level(lang: str) -> None:
    _weasyprint()
    from pypdf import PdfReader

    pdf = render(sample_data(), "pdf", lang=lang)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 0
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert HOST_NAME in text and HOST_IP in text
    assert "機密性2" in text and "機密性3" in text  # Japanese glyphs were embedded
    assert tr(lang, "documents_taken") in text
    flat = text.replace("\n", "")
    assert "職員名簿" in DOC3 and "職員名簿" in flat


def test_pdf_without_harfbuzz_subset_uses_one_face(monkeypatch: pytest.MonkeyPatch) -> None:
    _weasyprint()
    from pypdf import PdfReader

    from leaktrace.report import pdf as pdf_module

    monkeypatch.setattr(pdf_module, "fast_subsetting", lambda: False)
    reader = PdfReader(io.BytesIO(pdf_module.render_pdf(sample_data(), "ja")))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) > 0 and HOST_NAME in text and "機密性2" in text


def test_unknown_language_and_format_are_refused() -> None:
    from leaktrace.errors import LeaktraceError, RegistryError

    with pytest.raises(LeaktraceError, match="language"):
        render(sample_data(), "html", lang="fr")
    with pytest.raises(RegistryError, match="unknown report format 'docx'"):
        render(sample_data(), "docx")
