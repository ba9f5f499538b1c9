"""The public notice draft: Japanese and English, and nothing the redaction rules forbid."""

from __future__ import annotations

import pytest

from leaktrace.report import RedactionRules, render
from leaktrace.report.notice import render_notice
from leaktrace.report.redact import redacted_terms, scrub
from tests.report.sample import (
    ANALYST,
    DOC0,
    DOC1,
    DOC2,
    DOC3,
    HOST_IP,
    HOST_NAME,
    MAIL,
    SERVER_DOMAIN,
    SERVER_IP,
    USER,
    sample_data,
)

LANGS = ["ja", "en"]
NEVER = [HOST_IP, HOST_NAME, USER, ANALYST, "suzuki.h", MAIL, "職員名簿_2026", "令和8年度_予算要求資料", "メモ_打合せ",
         "fs01", "\\\\", "svchost"]


def _title(path: str) -> str:
    return path.rsplit("\\", 1)[-1]


@pytest.mark.parametrize("lang", LANGS)
def test_notice_while_investigating_redacts_everything(lang: str) -> None:
    data = sample_data(status="investigated")
    text = render(data, "notice", lang=lang).decode()
    for item in [*NEVER, SERVER_IP, SERVER_DOMAIN, _title(DOC2), _title(DOC3), _title(DOC0)]:
        assert item not in text, item
    for term in redacted_terms(data, RedactionRules()):  # the rule set's own list, whatever it holds
        assert term not in text, term
    assert _title(DOC1) in text  # 機密性1: its title may be published
    if lang == "ja":
        assert "不正アクセスによる情報流出の可能性について" in text
        assert "文書 4件" in text and "機密性3 1件" in text and "機密性2 1件" in text
        assert "約130人分" in text and "個人番号（マイナンバー）" in text
        assert "当該サーバとの通信を遮断しました" in text and "個人情報保護委員会" in text
        assert "外部機関からの通報" in text and "2026年3月2日に" in text
    else:
        assert "Notice of a possible information leak" in text
        assert "4 work documents" in text and "about 130 people" in text
        assert "Personal Information Protection Commission" in text
    assert data.contact and data.contact in text


@pytest.mark.parametrize("lang", LANGS)
def test_notice_names_the_server_once_reported(lang: str) -> None:
    text = render_notice(sample_data(status="reported"), lang)
    assert SERVER_DOMAIN in text
    for item in NEVER:
        assert item not in text, item


def test_rules_are_configurable() -> None:
    data = sample_data(status="closed")
    rules = RedactionRules(title_max_rank=20, show_server_when=[], terms=["Example Ministry"])
    text = render_notice(data, "ja", rules)
    assert _title(DOC2) in text and _title(DOC1) in text  # 機密性2 allowed now
    assert _title(DOC3) not in text  # 機密性3 still not
    assert SERVER_DOMAIN not in text and SERVER_IP not in text  # never, by this rule set
    assert "Example Ministry" not in text and "■■■" in text
    loose = render_notice(data, "en", RedactionRules(titles_unclassified=True))
    assert _title(DOC0) in loose


def test_a_title_carrying_a_name_is_withheld() -> None:
    data = sample_data()
    assert data.attribution is not None
    data.attribution.documents[2].path = data.attribution.documents[2].inventory_path = (
        rf"\\fs01\share\広報\{USER}_お知らせ案.docx")
    text = render_notice(data, "ja")
    assert USER not in text and "お知らせ案" not in text


def test_scrub_catches_free_text_leaks() -> None:
    data = sample_data()
    data.contact = f"問い合わせ: 10.20.30.40 / {MAIL} / \\\\fs01\\share\\x.docx / 198.51.100.7"
    text = render_notice(data, "ja")
    assert "10.20.30.40" not in text and MAIL not in text and "fs01" not in text
    assert "198.51.100.7" in text  # a public address someone chose to write stays
    assert scrub("host pc-0017 at 192.168.1.5", ["pc-0017"], RedactionRules()) == "host ■■■ at ■■■"


def test_scrub_uses_the_tenants_internal_networks() -> None:
    data = sample_data()
    data.contact = "gateway 198.51.100.7"
    data.internal_networks = ["198.51.100.0/24"]
    assert "198.51.100.7" not in render_notice(data, "en")
