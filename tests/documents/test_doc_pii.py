"""Personal data: the reference's check-digit vectors, keyword proximity, formats, golden inputs."""

from __future__ import annotations

import pytest

from leaktrace.documents.model import Segment, Zone
from leaktrace.documents.pii import corporate_number_ok, find_pii, my_number_ok, summarize

MY_NUMBER_VALID = ["123456789018", "111111111118", "000111111111", "465281266333"]
MY_NUMBER_INVALID = ["123456789012", "111111111111", "465281266330", "12345678901", "1234567890188"]
CORPORATE_VALID = ["7123456789012", "4011001098993", "2120901007402", "1180301018771", "9999999999999"]
CORPORATE_INVALID = ["1123456789012", "4011001098994", "712345678901"]


@pytest.mark.parametrize("n", MY_NUMBER_VALID)
def test_my_number_valid(n: str) -> None:
    assert my_number_ok(n)


@pytest.mark.parametrize("n", MY_NUMBER_INVALID)
def test_my_number_invalid(n: str) -> None:
    assert not my_number_ok(n)


@pytest.mark.parametrize("n", CORPORATE_VALID)
def test_corporate_valid(n: str) -> None:
    assert corporate_number_ok(n)


@pytest.mark.parametrize("n", CORPORATE_INVALID)
def test_corporate_invalid(n: str) -> None:
    assert not corporate_number_ok(n)


def test_full_width_digits_are_not_valid_raw_input() -> None:
    assert not my_number_ok("１２３４５６７８９０１８")  # callers normalise first (find_pii does)


def kinds(text: str) -> list[tuple[str, str, float]]:
    return [(h.kind, h.value, h.confidence) for h in find_pii(text)]


PII_GOLDEN = [
    # text                                                  -> hits (kind, value, confidence)
    ("マイナンバーは123456789018です", [("my_number", "123456789018", 0.85)]),  # no \b between は and 1
    ("個人番号：１２３４　５６７８　９０１８", [("my_number", "123456789018", 0.85)]),  # full width + spaces
    ("受注番号 123456789018", [("my_number", "123456789018", 0.65)]),  # valid, no keyword: low
    ("受注番号 123456789012", []),  # invalid, no keyword: nothing
    ("マイナンバー 123456789012", [("my_number_invalid", "123456789012", 0.3)]),  # flagged, not counted
    ("法人番号 7123456789012", [("corporate_number", "7123456789012", 0.85)]),
    ("登録番号 T4011001098993", [("corporate_number", "4011001098993", 0.85)]),
    ("電話：03-1234-5678", [("phone", "0312345678", 0.85)]),
    ("携帯 090ー1234ー5678", [("phone", "09012345678", 0.85)]),  # long-vowel mark typed as hyphen
    ("06(1234)5678", [("phone", "0612345678", 0.75)]),
    ("注文 0312345678", []),  # bare digits without keyword
    ("〒１００－０００１　東京都千代田区", [("postal_code", "1000001", 0.85)]),
    ("100-0001 東京都千代田区", [("postal_code", "1000001", 0.7)]),
    ("旅券番号 TK1234567", [("passport", "TK1234567", 0.75)]),
    ("型番 TK1234567", []),
    ("運転免許証番号 301234567890", [("drivers_licence", "301234567890", 0.75)]),
    ("振込先 普通 1234567", [("bank_account", "1234567", 0.85)]),
    ("口座番号：7654321", [("bank_account", "7654321", 0.75)]),
    ("連絡は taro.yamada@example.go.jp まで", [("email", "taro.yamada@example.go.jp", 0.85)]),
]


@pytest.mark.parametrize(("text", "expected"), PII_GOLDEN, ids=[g[0] for g in PII_GOLDEN])
def test_pii_golden(text: str, expected: list[tuple[str, str, float]]) -> None:
    assert kinds(text) == expected


def test_keyword_proximity_window() -> None:
    far = "マイナンバー" + "あ" * 400 + "123456789018"
    assert kinds(far) == [("my_number", "123456789018", 0.65)]


def test_summary_counts_and_people_estimate() -> None:
    table = "\n".join(["氏名\t個人番号\t電話", "山田太郎\t123456789018\t03-1234-5678",
                       "田中花子\t111111111118\t090-1111-2222", "佐藤次郎\t465281266333\t", "鈴木\t\t"])
    s = summarize([Segment(Zone.BODY, table, "Sheet1", tabular=True)])
    assert s.counts == {"my_number": 3, "phone": 2}
    assert s.high == {"my_number": 3, "phone": 1}  # only the first phone is within 40 chars of 電話
    assert s.people_estimate == 4  # four rows under 氏名


def test_summary_distinct_people() -> None:
    text = "個人番号 123456789018\n再掲 個人番号 123456789018\n個人番号 111111111118"
    s = summarize([Segment(Zone.BODY, text)])
    assert s.counts["my_number"] == 3
    assert s.people_estimate == 2
