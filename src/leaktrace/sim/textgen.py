"""Document titles and body text in Japanese and English, varied per document."""

from __future__ import annotations

import numpy as np

TITLES_JA = [
    "令和8年度予算概算要求（案）",
    "日米局長級協議 対処方針",
    "二国間経済対話 想定問答",
    "出張報告書",
    "定例会議 議事録",
    "情報システム更改計画",
    "広報計画（年間）",
    "国際会議 参加者名簿",
    "ODA案件 審査資料",
    "在外公館 連絡体制",
    "職員研修 実施要領",
    "調達仕様書（案）",
    "業務委託 評価報告",
    "閣僚会合 共同声明（仮訳）",
    "危機管理 対応手順",
    "説明資料（記者ブリーフ）",
    "人事異動 内示一覧",
    "旅費精算 一覧",
    "セミナー 申込者一覧",
    "意見交換会 メモ",
]
TITLES_EN = [
    "Bilateral consultation - talking points",
    "Draft press release",
    "Meeting minutes",
    "Trip report",
    "Project appraisal summary",
    "Budget request overview",
    "Conference participant list",
    "Risk register",
]
SENTENCES_JA = [
    "本件については、関係省庁と調整の上、{n}月末までに方針を取りまとめる予定である。",
    "先方からは、{place}における協力の拡大について強い関心が示された。",
    "予算規模は約{m}億円を見込んでおり、前年度比{p}％の増加となる。",
    "今後の対応として、{place}の在外公館を通じて情報収集を継続する。",
    "会議には{k}名が出席し、主な論点は以下のとおりである。",
    "本資料の内容は、公表前のものであり、取扱いには十分注意すること。",
    "事務局案について異論はなく、次回会合で最終確認を行うこととなった。",
    "{place}側の担当者から、追加の資料提供について依頼があった。",
    "スケジュールに遅延が生じた場合は、速やかに課長まで報告すること。",
    "費用対効果の観点から、第{k}案を推奨する。",
    "関係者への説明は、{n}月{d}日の定例会議において実施する。",
    "システムの更改に当たっては、情報セキュリティ対策を十分に講じること。",
]
SENTENCES_EN = [
    "The delegation expressed strong interest in expanding cooperation with {place}.",
    "The estimated budget is about {m} billion yen, an increase of {p} percent over last year.",
    "{k} participants attended the meeting; the main points are summarised below.",
    "The secretariat will circulate a revised draft by the end of month {n}.",
    "Further information will be collected through the embassy in {place}.",
    "Option {k} is recommended on cost-effectiveness grounds.",
]
PLACES_JA = [
    "ジャカルタ",
    "ハノイ",
    "マニラ",
    "ワシントン",
    "ブリュッセル",
    "ジュネーブ",
    "ニューデリー",
    "バンコク",
]
PLACES_EN = ["Jakarta", "Hanoi", "Manila", "Washington", "Brussels", "Geneva", "New Delhi", "Bangkok"]


def sentences(rng: np.random.Generator, lang: str, count: int) -> list[str]:
    bank, places = (SENTENCES_JA, PLACES_JA) if lang == "ja" else (SENTENCES_EN, PLACES_EN)
    out = []
    for _ in range(count):
        s = bank[int(rng.integers(len(bank)))]
        out.append(
            s.format(
                n=int(rng.integers(1, 13)),
                d=int(rng.integers(1, 29)),
                m=int(rng.integers(2, 900)),
                p=int(rng.integers(1, 40)),
                k=int(rng.integers(2, 60)),
                place=places[int(rng.integers(len(places)))],
            )
        )
    return out


def title(rng: np.random.Generator, lang: str) -> str:
    bank = TITLES_JA if lang == "ja" else TITLES_EN
    return bank[int(rng.integers(len(bank)))]
