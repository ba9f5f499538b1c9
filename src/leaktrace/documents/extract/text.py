"""Plain text, CSV/TSV and HTML, with Japanese encoding detection.

Order: BOM (UTF-8, UTF-16 LE/BE) → ISO-2022-JP (escape sequences) → strict UTF-8 → CP932 / EUC-JP, the one
that decodes and yields more kana wins (Shift_JIS is decoded as CP932, its Windows superset) → CP932 with
replacement characters.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from html.parser import HTMLParser

from leaktrace.documents.extract.base import Context, add_lines
from leaktrace.documents.model import Extraction, Zone

_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff]")


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name)."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc
    if b"\x1b$B" in data or b"\x1b$@" in data or b"\x1b(J" in data:
        try:
            return data.decode("iso-2022-jp"), "iso-2022-jp"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best: tuple[int, str, str] | None = None
    for enc in ("cp932", "euc-jp"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        score = len(_KANA.findall(text))
        if best is None or score > best[0]:
            best = (score, text, enc)
    if best is not None:
        return best[1], best[2]
    return data.decode("cp932", errors="replace"), "cp932?"


def looks_like_text(data: bytes) -> bool:
    head = data[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 9 or 13 < b < 27 or 27 < b < 32)
    return controls <= len(head) // 100


def extract_text(data: bytes, name: str, ctx: Context) -> Extraction:
    text, _ = decode(data)
    tabular = name.lower().endswith((".csv", ".tsv"))
    ex = Extraction(format="csv" if tabular else "text")
    if tabular:
        dialect = "excel-tab" if name.lower().endswith(".tsv") else "excel"
        lines = ["\t".join(c.replace("\t", " ") for c in row) for row in csv.reader(io.StringIO(text), dialect)]
    else:
        lines = text.splitlines()
    add_lines(ex, lines, tabular=tabular)
    return ex


class _HtmlText(HTMLParser):
    BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "header",
             "footer", "td", "th"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCK:
            self.parts.append("\t" if tag in ("td", "th") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """(title, visible text)."""
    p = _HtmlText()
    p.feed(html)
    p.close()
    return "".join(p.title).strip(), "".join(p.parts)


def extract_html(data: bytes, name: str, ctx: Context) -> Extraction:
    text, _ = decode(data)
    title, body = html_to_text(text)
    ex = Extraction(format="html", title=title or None)
    ex.add(Zone.SUBJECT, title, "title")
    add_lines(ex, [ln.strip() for ln in body.splitlines()])
    return ex
