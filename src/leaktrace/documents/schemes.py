"""Classification schemes as data: ordered levels with patterns, handling qualifiers, label-name hints.

Patterns are regular expressions over NFKC-normalised text (２→2, Ⅱ→II, ：→:), written without ``\\b`` (it
does not fire between Japanese characters and digits). *Where* a match counts (header, stamp, a bracketed or
stand-alone line in the body …) is decided by the classifier, not here; ``strict`` levels (single-character or
common-word markings such as 秘) are only accepted on a line of their own, in brackets, or in a file name in
brackets. A scheme can also be loaded from a TOML file with the same shape (see ``scheme_from_dict``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leaktrace.errors import ConfigError, Location
from leaktrace.registry import Registry


@dataclass(frozen=True)
class Level:
    name: str
    rank: int
    patterns: tuple[str, ...]
    strict: bool = False
    filename_patterns: tuple[str, ...] = ()  # only in file names / mail subjects (e.g. C2I1A1)
    label_hints: tuple[str, ...] = ()  # lower-case substrings of MSIP label names (fallback heuristics)


@dataclass(frozen=True)
class Scheme:
    name: str
    levels: tuple[Level, ...]
    qualifiers: tuple[str, ...] = ()  # regexes; the matched text is the qualifier
    open_qualifiers: tuple[str, ...] = ()  # looser forms (○○限り), accepted in header/footer/stamp only
    case_sensitive: bool = True
    _compiled: dict[str, re.Pattern[str]] = field(default_factory=dict, compare=False, repr=False)

    def level(self, name: str) -> Level | None:
        for lv in self.levels:
            if lv.name == name:
                return lv
        return None

    def regex(self, key: str, source: str) -> re.Pattern[str]:
        pat = self._compiled.get(key)
        if pat is None:
            pat = re.compile(source, 0 if self.case_sensitive else re.IGNORECASE)
            self._compiled[key] = pat
        return pat


schemes: Registry[Scheme] = Registry("classification scheme")

_DIGIT_END = r"(?![0-9IV])"
_LEAD = r"機密性\s*(?:レベル|区分)?\s*:?\s*"


def _kimitsu(arabic: str, kanji: str, roman: str) -> tuple[str, ...]:
    return (f"{_LEAD}(?:{arabic}|{kanji}|{roman}){_DIGIT_END}(?:情報)?",)


JP_GOV = Scheme(
    name="jp-gov",
    levels=(
        Level("機密性1", 10, _kimitsu("1", "一", "I"), filename_patterns=(r"(?<![A-Za-z0-9])C1I[12]A[12](?![A-Za-z0-9])",),
              label_hints=("public", "general", "公開", "機密性1")),
        Level("機密性2", 20, _kimitsu("2", "二", "II"), filename_patterns=(r"(?<![A-Za-z0-9])C2I[12]A[12](?![A-Za-z0-9])",),
              label_hints=("confidential", "internal", "社外秘", "部外秘", "関係者限り", "機密性2")),
        Level("機密性3", 30, _kimitsu("3", "三", "III"), filename_patterns=(r"(?<![A-Za-z0-9])C3I[12]A[12](?![A-Za-z0-9])",),
              label_hints=("highly confidential", "strictly confidential", "restricted", "機密性3")),
        Level("秘", 40, (r"(?<![極])(?:時限)?秘(?:文書)?", r"時秘"), strict=True, label_hints=("secret",)),
        Level("極秘", 50, (r"極秘(?:文書)?",), strict=True, label_hints=("top secret", "極秘")),
        Level("特定秘密", 60, (r"特定秘密",), strict=True),
    ),
    qualifiers=(
        r"取扱制限", r"複製禁止", r"複製要許可", r"持出禁止", r"持ち出し禁止", r"配[付布]禁止", r"配[付布]要許可",
        r"転送禁止", r"送信禁止", r"暗号化必須", r"読後廃棄", r"再利用禁止", r"再利用要許可", r"会議後回収",
        r"関係者限り", r"取扱注意", r"取扱い注意", r"部外秘", r"社外秘", r"庁内限り", r"省内限り", r"社内限り",
        r"メンバー限り", r"書換禁止", r"削除禁止",
    ),
    open_qualifiers=(r"(?<![^\s:：・/【\[(（「])[^\s:：・/【】\[\]()（）「」、。]{1,8}限り",),
)

TLP = Scheme(
    name="tlp",
    case_sensitive=False,
    levels=(
        Level("TLP:CLEAR", 10, (r"TLP\s*:\s*(?:CLEAR|WHITE)(?![A-Za-z])",), label_hints=("tlp:clear", "tlp:white")),
        Level("TLP:GREEN", 20, (r"TLP\s*:\s*GREEN(?![A-Za-z])",), label_hints=("tlp:green",)),
        Level("TLP:AMBER", 30, (r"TLP\s*:\s*AMBER(?![A-Za-z+])",), label_hints=("tlp:amber",)),
        Level("TLP:AMBER+STRICT", 35, (r"TLP\s*:\s*AMBER\s*\+\s*STRICT(?![A-Za-z])",),
              label_hints=("tlp:amber+strict",)),
        Level("TLP:RED", 40, (r"TLP\s*:\s*RED(?![A-Za-z])",), label_hints=("tlp:red",)),
    ),
)

_W = r"(?<![A-Za-z])"
_E = r"(?![A-Za-z])"
US = Scheme(
    name="us",
    levels=(
        Level("UNCLASSIFIED", 0, (f"{_W}UNCLASSIFIED{_E}",), label_hints=("unclassified", "public")),
        Level("CUI", 15, (f"{_W}CUI{_E}", f"{_W}CONTROLLED{_E}(?!\\s+[a-z])", f"{_W}FOR OFFICIAL USE ONLY{_E}",
                          f"{_W}FOUO{_E}"), label_hints=("cui", "controlled", "fouo")),
        Level("CONFIDENTIAL", 20, (f"{_W}CONFIDENTIAL{_E}",), label_hints=("confidential",)),
        Level("SECRET", 30, (f"{_W}(?<!TOP )SECRET{_E}",), label_hints=("secret",)),
        Level("TOP SECRET", 40, (f"{_W}TOP SECRET{_E}",), label_hints=("top secret",)),
    ),
    qualifiers=(r"(?<=//)[A-Z][A-Z0-9 ,\-]*[A-Z0-9]", r"NOFORN", r"ORCON", r"REL TO [A-Z, ]+[A-Z]"),
)

UK = Scheme(
    name="uk",
    levels=(
        Level("OFFICIAL", 10, (f"{_W}OFFICIAL(?![-\\s]*SENSITIVE){_E}",), label_hints=("official",)),
        Level("OFFICIAL-SENSITIVE", 20, (f"{_W}OFFICIAL[-\\s]*SENSITIVE{_E}",),
              label_hints=("official-sensitive", "official sensitive")),
        Level("SECRET", 30, (f"{_W}(?<!TOP )SECRET{_E}",), label_hints=("secret",)),
        Level("TOP SECRET", 40, (f"{_W}TOP SECRET{_E}",), label_hints=("top secret",)),
    ),
    qualifiers=(r"UK EYES ONLY", r"(?<=SENSITIVE )\[?(?:PERSONAL|COMMERCIAL|LOCSEN)\]?"),
)

for _s in (JP_GOV, TLP, US, UK):
    schemes.add(_s.name, _s)


def scheme_from_dict(raw: dict[str, Any], source: str | None = None) -> Scheme:
    """Build a scheme from a mapping (e.g. a TOML file): name, levels[{name, rank, patterns, strict …}]."""
    try:
        levels = tuple(
            Level(
                name=str(lv["name"]),
                rank=int(lv["rank"]),
                patterns=tuple(lv.get("patterns", ())),
                strict=bool(lv.get("strict", False)),
                filename_patterns=tuple(lv.get("filename_patterns", ())),
                label_hints=tuple(h.lower() for h in lv.get("label_hints", ())),
            )
            for lv in raw["levels"]
        )
        scheme = Scheme(
            name=str(raw["name"]),
            levels=levels,
            qualifiers=tuple(raw.get("qualifiers", ())),
            open_qualifiers=tuple(raw.get("open_qualifiers", ())),
            case_sensitive=bool(raw.get("case_sensitive", True)),
        )
        for lv in levels:
            for i, p in enumerate(lv.patterns + lv.filename_patterns):
                scheme.regex(f"check:{lv.name}:{i}", p)
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise ConfigError(f"invalid classification scheme: {exc}", Location(path=source)) from None
    return scheme


def load_scheme(name_or_path: str, base: Path | None = None) -> Scheme:
    """A built-in scheme by name, or a TOML file (relative to ``base``) describing one."""
    if name_or_path in schemes:
        return schemes.get(name_or_path)
    path = Path(name_or_path)
    if path.suffix == ".toml":
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read scheme file: {exc}", Location(path=str(path))) from None
        return scheme_from_dict(raw, str(path))
    return schemes.get(name_or_path)  # raises RegistryError naming the known schemes
