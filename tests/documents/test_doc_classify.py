"""Golden tests per scheme: (zone, text) in, (level, qualifiers) out, side by side."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaktrace.documents.classify import Classifier
from leaktrace.documents.model import Extraction, MsipLabel, Zone
from leaktrace.documents.schemes import load_scheme, scheme_from_dict
from leaktrace.errors import ConfigError, RegistryError

H, F, FL, B, S, P, N, SUB = (Zone.HEADER, Zone.FOOTER, Zone.FIRST_LINES, Zone.BODY, Zone.STAMP, Zone.PROPERTIES,
                             Zone.FILENAME, Zone.SUBJECT)


def classify(scheme: str, *segments: tuple[Zone, str], labels: tuple[MsipLabel, ...] = (),
             msip: dict[str, str] | None = None) -> tuple[str | None, list[str]]:
    ex = Extraction(format="test")
    for zone, text in segments:
        ex.add(zone, text)
    ex.labels.extend(labels)
    c = Classifier(load_scheme(scheme), msip).classify(ex)
    return c.level, c.qualifiers


JP_GOLDEN = [
    # (zone, text)                                   -> level,       qualifiers
    ((H, "機密性２情報"),                                 "機密性2",   []),
    ((H, "機密性2"),                                     "機密性2",   []),
    ((H, "【機密性３】"),                                 "機密性3",   []),
    ((H, "機密性：２"),                                   "機密性2",   []),
    ((H, "機密性Ⅱ"),                                     "機密性2",   []),
    ((H, "機密性II情報"),                                 "機密性2",   []),
    ((H, "機密性二"),                                     "機密性2",   []),
    ((F, "機密性１情報"),                                 "機密性1",   []),
    ((H, "機密性２・複製禁止"),                           "機密性2",   ["複製禁止"]),
    ((S, "機密性２情報\n共有範囲：社内限り"),             "機密性2",   ["社内限り"]),
    ((H, "機密性２　取扱制限　配布禁止"),                 "機密性2",   ["取扱制限", "配布禁止"]),
    ((H, "機密性20"),                                    None,        []),
    ((H, "機密性の高い情報"),                             None,        []),
    ((FL, "機密性２情報"),                                "機密性2",   []),
    ((FL, "機密性2情報の取扱いに関する規程の解説"),        "機密性2",   []),  # line start in first lines
    ((B, "本規程は機密性2情報の取扱いを定める。"),         None,        []),  # prose mention in the body
    ((B, "【機密性３】"),                                 "機密性3",   []),  # bracketed in the body
    ((B, "機密性３情報"),                                 "機密性3",   []),  # a line of its own
    # 秘 / 極秘: only as a marking
    ((H, "秘"),                                          "秘",        []),
    ((H, "【秘】"),                                       "秘",        []),
    ((S, "㊙"),                                          "秘",        []),
    ((H, "極秘"),                                        "極秘",      []),
    ((H, "極秘文書"),                                    "極秘",      []),
    ((B, "〔極秘〕"),                                     "極秘",      []),
    ((H, "秘書課"),                                      None,        []),
    ((H, "秘密保持契約"),                                 None,        []),
    ((B, "被疑者は黙秘を続けた。"),                       None,        []),
    ((B, "便秘と神秘"),                                   None,        []),
    ((H, "部外秘"),                                      None,        ["部外秘"]),
    ((B, "極秘裏に進める"),                               None,        []),
    ((FL, "秘書室だより"),                                None,        []),
    ((N, "【秘】計画.docx"),                              "秘",        []),
    ((N, "秘書課名簿.xlsx"),                              None,        []),
    ((H, "特定秘密"),                                    "特定秘密",  []),
    ((B, "特定秘密の保護に関する法律"),                   None,        []),
    # 要機密情報 is an umbrella term, not a level; 重要機密情報 contains it
    ((H, "重要機密情報"),                                 None,        []),
    ((H, "要機密情報"),                                   None,        []),
    ((FL, "重要機密情報の管理について"),                  None,        []),
    # file names
    ((N, "機密性２_予算案.docx"),                          "機密性2",   []),
    ((N, "report_C3I2A1.xlsx"),                          "機密性3",   []),
    ((H, "C3I2A1"),                                      None,        []),  # shorthand only in names/subjects
    ((SUB, "【機密性２】会議資料の送付"),                  "機密性2",   []),
    ((P, "機密性3"),                                     "機密性3",   []),
]


@pytest.mark.parametrize(("segment", "level", "qualifiers"), JP_GOLDEN, ids=[g[0][1] for g in JP_GOLDEN])
def test_jp_gov_golden(segment: tuple[Zone, str], level: str | None, qualifiers: list[str]) -> None:
    assert classify("jp-gov", segment) == (level, qualifiers)


OTHER_GOLDEN = [
    ("tlp", (FL, "TLP:AMBER+STRICT"), "TLP:AMBER+STRICT"),
    ("tlp", (FL, "TLP:AMBER"), "TLP:AMBER"),
    ("tlp", (H, "TLP:RED"), "TLP:RED"),
    ("tlp", (FL, "TLP:WHITE"), "TLP:CLEAR"),
    ("tlp", (H, "ｔｌｐ：ｇｒｅｅｎ"), "TLP:GREEN"),
    ("tlp", (B, "Please share this TLP:RED report freely"), None),
    ("us", (H, "TOP SECRET//NOFORN"), "TOP SECRET"),
    ("us", (H, "SECRET"), "SECRET"),
    ("us", (F, "CUI//SP-PRVCY"), "CUI"),
    ("us", (H, "CONFIDENTIAL"), "CONFIDENTIAL"),
    ("us", (H, "Secretary of State"), None),
    ("us", (B, "The SECRETARIAT met on Monday."), None),
    ("uk", (H, "OFFICIAL-SENSITIVE"), "OFFICIAL-SENSITIVE"),
    ("uk", (H, "OFFICIAL"), "OFFICIAL"),
    ("uk", (F, "TOP SECRET"), "TOP SECRET"),
    ("uk", (H, "Official guidance"), None),
]


@pytest.mark.parametrize(("scheme", "segment", "level"), OTHER_GOLDEN, ids=[f"{g[0]}:{g[1][1]}" for g in OTHER_GOLDEN])
def test_other_schemes_golden(scheme: str, segment: tuple[Zone, str], level: str | None) -> None:
    assert classify(scheme, segment)[0] == level


def test_us_banner_qualifiers() -> None:
    assert classify("us", (H, "TOP SECRET//NOFORN"))[1] == ["NOFORN"]


def test_highest_level_wins_and_evidence_is_kept() -> None:
    ex = Extraction(format="t")
    ex.add(H, "機密性２情報")
    ex.add(S, "機密性３情報")
    ex.add(N, "機密性２_資料.docx")
    c = Classifier(load_scheme("jp-gov")).classify(ex)
    assert (c.level, c.rank, c.channels) == ("機密性3", 30, ["stamp"])
    assert {e.level for e in c.evidence} == {"機密性2", "機密性3"}
    assert c.confidence == 0.9


def test_agreeing_channels_raise_confidence() -> None:
    ex = Extraction(format="t")
    ex.add(H, "機密性２")
    ex.add(N, "機密性２_資料.docx")
    c = Classifier(load_scheme("jp-gov")).classify(ex)
    assert c.channels == ["filename", "header"]
    assert c.confidence == pytest.approx(1 - 0.1 * 0.3)


GUID = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"


def test_msip_label_mapped_by_config() -> None:
    label = MsipLabel(GUID, name="Whatever", source="LabelInfo.xml")
    assert classify("jp-gov", labels=(label,), msip={"{" + GUID.upper() + "}": "機密性3"})[0] == "機密性3"


def test_msip_label_name_fallbacks() -> None:
    assert classify("jp-gov", labels=(MsipLabel(GUID, name="機密性２（社内）"),))[0] == "機密性2"
    assert classify("jp-gov", labels=(MsipLabel(GUID, name="Highly Confidential"),))[0] == "機密性3"
    assert classify("jp-gov", labels=(MsipLabel(GUID, name="Confidential"),))[0] == "機密性2"
    assert classify("jp-gov", labels=(MsipLabel(GUID, name="Confidential", enabled=False),))[0] is None
    assert classify("jp-gov", labels=(MsipLabel(GUID),))[0] is None  # no name, not mapped


def test_msip_map_to_unknown_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown level"):
        Classifier(load_scheme("jp-gov"), {GUID: "TOP SECRET"})


def test_custom_scheme_from_dict() -> None:
    scheme = scheme_from_dict({"name": "corp", "levels": [
        {"name": "社外秘", "rank": 10, "patterns": ["社外秘"]},
        {"name": "厳秘", "rank": 20, "patterns": ["厳秘"], "strict": True},
    ]})
    ex = Extraction(format="t")
    ex.add(H, "社外秘")
    assert Classifier(scheme).classify(ex).level == "社外秘"
    with pytest.raises(ConfigError):
        scheme_from_dict({"name": "bad", "levels": [{"name": "x", "rank": 1, "patterns": ["("]}]})


def test_scheme_file_and_unknown_scheme(tmp_path: Path) -> None:
    (tmp_path / "corp.toml").write_text(
        'name = "corp"\n[[levels]]\nname = "社外秘"\nrank = 10\npatterns = ["社外秘"]\n', encoding="utf-8")
    assert load_scheme("corp.toml", base=tmp_path).name == "corp"
    with pytest.raises(RegistryError, match="jp-gov"):
        load_scheme("nato")
    with pytest.raises(ConfigError):
        load_scheme("missing.toml", base=tmp_path)
