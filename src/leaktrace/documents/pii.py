"""Japanese personal data: identifiers with check digits, formats and keyword proximity.

Every hit gets a confidence in the Purview style: 0.85 (high) = valid format/check digit *and* a keyword
nearby; 0.65-0.75 = valid without keyword (or a distinctive format); < 0.6 = not counted. Only check-digit-valid
My Numbers / corporate numbers count without a keyword. Text is NFKC-normalised first (full-width digits,
hyphen look-alikes, ー between digits). Hit *values* stay in memory for distinct counting; only counts leave.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from leaktrace.documents.model import PiiSummary, Segment
from leaktrace.documents.normalize import nfkc

HIGH, MEDIUM, LOW, COUNTED = 0.85, 0.75, 0.65, 0.6


def my_number_ok(digits: str) -> bool:
    """My Number (個人番号) check digit: 12 ASCII digits, weights 2-7,2-6 from the right, mod 11."""
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    s = sum(int(digits[10 - i]) * (i + 2 if i < 6 else i - 4) for i in range(11))
    r = s % 11
    return int(digits[11]) == (0 if r <= 1 else 11 - r)


def corporate_number_ok(digits: str) -> bool:
    """Corporate number (法人番号) check digit: 13 ASCII digits, check digit first, weights 1/2, mod 9."""
    if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
        return False
    s = sum(int(digits[12 - i]) * (1 if i % 2 == 0 else 2) for i in range(12))
    return int(digits[0]) == 9 - s % 9


@dataclass(frozen=True)
class PiiHit:
    kind: str
    value: str  # normalised identifier (kept in memory only)
    confidence: float


_MYNUM = re.compile(r"(?<![0-9])([0-9]{4})[ .-]?([0-9]{4})[ .-]?([0-9]{4})(?![0-9])")
_CORP = re.compile(r"(?<![0-9])T?([0-9]{13})(?![0-9])")
_PHONE = re.compile(
    r"(?<![0-9+-])(?:\+81[ -]?|0)([0-9]{1,4})(?:[-( ]|\) ?)([0-9]{1,4})[-) ]\s?([0-9]{3,4})(?![0-9-])"
    r"|(?<![0-9])(0[5789]0[0-9]{8}|0[1-9][0-9]{8})(?![0-9])"
)
_POSTAL = re.compile(r"(?:[〒〶]|郵便番号\s*:?)\s*([0-9]{3})-?([0-9]{4})(?![0-9])")
_POSTAL_BARE = re.compile(r"(?<![0-9-])([0-9]{3})-([0-9]{4})(?![0-9-])\s*(?=\S{0,3}(?:北海道|東京都|京都府|大阪府|.{1,3}県))")
_PASSPORT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2}[0-9]{7})(?![0-9])")
_BANK = re.compile(r"(?:普通|当座|貯蓄)(?:預金)?\s*(?:口座)?\s*(?:番号)?\s*:?\s*([0-9]{7,8})(?![0-9])")
_ACCOUNT = re.compile(r"(?<![0-9-])([0-9]{7,8})(?![0-9-])")
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z])")

KW_MYNUM = re.compile(r"マイナンバー|個人番号|my ?number|individual number", re.IGNORECASE)
KW_CORP = re.compile(r"法人番号|登録番号|corporate number", re.IGNORECASE)
KW_PHONE = re.compile(r"電話|TEL|携帯|連絡先|FAX|phone", re.IGNORECASE)
KW_PASSPORT = re.compile(r"パスポート|旅券|passport", re.IGNORECASE)
KW_LICENCE = re.compile(r"運転免許|免許証|driver'?s? licen[cs]e", re.IGNORECASE)
KW_BANK = re.compile(r"口座|普通預金|当座預金|bank account|account (?:no|number)", re.IGNORECASE)
LICENCE_AREAS = {10, 11, 12, 13, 14, *range(20, 26), 30, *range(40, 50), *range(50, 56), *range(60, 66),
                 *range(70, 75), *range(80, 84), *range(90, 98)}
PERSONAL_KINDS = ("my_number", "passport", "drivers_licence", "email", "phone", "bank_account")
_NAME_HEADER = re.compile(r"^(?:氏名|名前|お名前|姓名|name|full ?name|職員名|社員名)$", re.IGNORECASE)


def _near(kw: re.Pattern[str], text: str, s: int, e: int, window: int) -> int | None:
    """Distance (chars) from the span to the nearest keyword within ``window``, else None."""
    best: int | None = None
    for m in kw.finditer(text, max(0, s - window), min(len(text), e + window)):
        d = s - m.end() if m.end() <= s else max(0, m.start() - e)
        best = d if best is None or d < best else best
    return best


def find_pii(text: str) -> list[PiiHit]:
    """All personal-data hits in one text (confidence < 0.6 included, flagged low)."""
    t = nfkc(text)
    hits: list[PiiHit] = []
    starts: list[int] = []  # taken spans, sorted and disjoint: a span is not reported twice
    ends: list[int] = []

    def add(kind: str, value: str, conf: float, s: int, e: int) -> None:
        hits.append(PiiHit(kind, value, conf))
        i = bisect.bisect_left(starts, s)
        starts.insert(i, s)
        ends.insert(i, e)

    def free(s: int, e: int) -> bool:
        i = bisect.bisect_left(starts, s)
        if i < len(starts) and starts[i] < e:
            return False
        return not (i > 0 and ends[i - 1] > s)

    for m in _EMAIL.finditer(t):
        add("email", m.group(0).lower(), HIGH, m.start(), m.end())
    for m in _CORP.finditer(t):
        d = m.group(1)
        kw = _near(KW_CORP, t, m.start(), m.end(), 100) is not None
        if corporate_number_ok(d):
            add("corporate_number", d, HIGH if kw else LOW, m.start(), m.end())
    for m in _MYNUM.finditer(t):
        d = "".join(m.groups())
        if not free(m.start(), m.end()):
            continue
        lic = _near(KW_LICENCE, t, m.start(), m.end(), 60)
        mn = _near(KW_MYNUM, t, m.start(), m.end(), 300)
        if lic is not None and (mn is None or lic < mn) and d.isdigit() and int(d[:2]) in LICENCE_AREAS:
            add("drivers_licence", d, MEDIUM, m.start(), m.end())
        elif my_number_ok(d):
            add("my_number", d, HIGH if mn is not None else LOW, m.start(), m.end())
        elif mn is not None:
            hits.append(PiiHit("my_number_invalid", d, 0.3))
    for m in _POSTAL.finditer(t):
        if free(m.start(), m.end()):
            add("postal_code", m.group(1) + m.group(2), HIGH, m.start(), m.end())
    for m in _POSTAL_BARE.finditer(t):
        if free(m.start(), m.end()):
            add("postal_code", m.group(1) + m.group(2), 0.7, m.start(), m.end())
    for m in _PHONE.finditer(t):
        if not free(m.start(), m.end()):
            continue
        digits = re.sub(r"[^0-9]", "", m.group(0))
        if digits.startswith("81"):
            digits = "0" + digits[2:]
        mobile = digits[:3] in ("070", "080", "090", "050")
        if len(digits) != (11 if mobile else 10) and not (digits.startswith("0120") and len(digits) == 10):
            continue
        kw = _near(KW_PHONE, t, m.start(), m.end(), 40) is not None
        formatted = m.group(4) is None
        if kw or formatted:
            add("phone", digits, HIGH if kw else MEDIUM, m.start(), m.end())
    for m in _PASSPORT.finditer(t):
        if free(m.start(), m.end()) and _near(KW_PASSPORT, t, m.start(), m.end(), 100) is not None:
            add("passport", m.group(1).upper(), MEDIUM, m.start(), m.end())
    for m in _BANK.finditer(t):
        if free(m.start(1), m.end(1)):
            add("bank_account", m.group(1), HIGH, m.start(1), m.end(1))
    for m in _ACCOUNT.finditer(t):
        if free(m.start(), m.end()) and _near(KW_BANK, t, m.start(), m.end(), 30) is not None:
            add("bank_account", m.group(1), MEDIUM, m.start(), m.end())
    return hits


def _rows_with_names(seg: Segment) -> int:
    """Rows below a 氏名/name header cell that have a value in that column (tabular segments only)."""
    lines = nfkc(seg.text).split("\n")
    for i, line in enumerate(lines[:20]):
        cells = [c.strip() for c in line.split("\t")]
        cols = [j for j, c in enumerate(cells) if _NAME_HEADER.match(c)]
        if cols:
            col = cols[0]
            return sum(1 for row in lines[i + 1:] if len(cells := row.split("\t")) > col and cells[col].strip())
    return 0


def summarize(segments: Iterable[Segment]) -> PiiSummary:
    """Counts per kind (confidence >= 0.6), high-confidence counts, and an estimate of the people concerned.

    People = max(distinct values of any personal identifier kind with confidence >= 0.75 — so check-digit-only
    My Numbers without a keyword, typical of IDs in machine logs, do not count as people — and rows under a
    氏名/name column).
    """
    summary = PiiSummary()
    distinct: dict[str, set[str]] = {}
    tables: dict[str, list[Segment]] = {}
    for seg in segments:
        for hit in find_pii(seg.text):
            if hit.confidence < COUNTED:
                continue
            summary.counts[hit.kind] = summary.counts.get(hit.kind, 0) + 1
            if hit.confidence >= HIGH:
                summary.high[hit.kind] = summary.high.get(hit.kind, 0) + 1
            if hit.confidence >= MEDIUM:
                distinct.setdefault(hit.kind, set()).add(hit.value)
        if seg.tabular:
            tables.setdefault(seg.where, []).append(seg)
    rows = 0
    for parts in tables.values():  # a sheet's first rows and the rest are separate segments
        joined = Segment(parts[0].zone, "\n".join(p.text for p in parts), parts[0].where, tabular=True)
        rows = max(rows, _rows_with_names(joined))
    per_kind = [len(distinct.get(k, ())) for k in PERSONAL_KINDS]
    summary.people_estimate = max([rows, *per_kind])
    return summary
