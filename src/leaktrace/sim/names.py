"""Word lists: Japanese names and places, site-name parts. Data only."""

from __future__ import annotations

# fmt: off
SURNAMES: list[tuple[str, str]] = [
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"), ("伊藤", "ito"),
    ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"), ("小林", "kobayashi"), ("加藤", "kato"),
    ("吉田", "yoshida"), ("山田", "yamada"), ("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"),
    ("井上", "inoue"), ("木村", "kimura"), ("林", "hayashi"), ("斎藤", "saito"), ("清水", "shimizu"),
    ("山崎", "yamazaki"), ("森", "mori"), ("池田", "ikeda"), ("橋本", "hashimoto"), ("阿部", "abe"),
    ("石川", "ishikawa"), ("山下", "yamashita"), ("中島", "nakajima"), ("石井", "ishii"), ("小川", "ogawa"),
    ("前田", "maeda"), ("岡田", "okada"), ("長谷川", "hasegawa"), ("藤田", "fujita"), ("後藤", "goto"),
    ("近藤", "kondo"), ("村上", "murakami"), ("遠藤", "endo"), ("青木", "aoki"), ("坂本", "sakamoto"),
]
GIVEN_NAMES: list[tuple[str, str]] = [
    ("翔", "sho"), ("大輔", "daisuke"), ("健太", "kenta"), ("拓也", "takuya"), ("直樹", "naoki"),
    ("浩", "hiroshi"), ("誠", "makoto"), ("隆", "takashi"), ("亮", "ryo"), ("聡", "satoshi"),
    ("陽子", "yoko"), ("恵子", "keiko"), ("美穂", "miho"), ("由美", "yumi"), ("真由美", "mayumi"),
    ("愛", "ai"), ("彩", "aya"), ("優子", "yuko"), ("智子", "tomoko"), ("裕子", "hiroko"),
    ("一郎", "ichiro"), ("和也", "kazuya"), ("達也", "tatsuya"), ("慎一", "shinichi"), ("修", "osamu"),
    ("明美", "akemi"), ("香織", "kaori"), ("千尋", "chihiro"), ("里奈", "rina"), ("沙織", "saori"),
]
PREFECTURES: list[tuple[str, str, str]] = [  # prefecture, city, postal prefix
    ("東京都", "千代田区霞が関", "100"), ("東京都", "世田谷区桜新町", "154"), ("神奈川県", "横浜市中区", "231"),
    ("埼玉県", "さいたま市浦和区", "330"), ("千葉県", "千葉市中央区", "260"), ("大阪府", "大阪市北区", "530"),
    ("愛知県", "名古屋市中区", "460"), ("福岡県", "福岡市博多区", "812"), ("北海道", "札幌市中央区", "060"),
    ("宮城県", "仙台市青葉区", "980"), ("京都府", "京都市左京区", "606"), ("兵庫県", "神戸市中央区", "650"),
]
SITE_WORDS: list[str] = [
    "asahi", "sakura", "kaigai", "seiji", "news", "tabi", "shop", "data", "tech", "tokyo", "osaka", "nihon",
    "global", "policy", "trade", "kankyo", "kenko", "kyoiku", "bunka", "keizai", "info", "portal", "forum",
    "press", "review", "market", "travel", "career", "life", "sports", "weather", "map", "book", "photo",
    "cloud", "mail", "blog", "daily", "asia", "pacific", "euro", "world", "gov", "research", "lab", "study",
]
TLDS: list[str] = ["jp", "co.jp", "or.jp", "ne.jp", "com", "net", "org", "go.jp", "ac.jp", "info"]
# fmt: on
