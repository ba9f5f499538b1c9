"""Fingerprints: hashes of normalised text, winnowing guarantees, partial-copy containment."""

from __future__ import annotations

import random

from leaktrace.documents.fingerprint import (
    K,
    W,
    containment,
    fingerprints,
    kgram_hashes,
    pack,
    similarity,
    text_sha256,
    unpack,
    winnow,
)

KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
KANJI = "機密情報報告書予算会議資料外務省通信記録分析対応調査結果担当職員管理規程"


def japanese(n: int, seed: int) -> str:
    rng = random.Random(seed)
    alphabet = KANA + KANJI
    out = []
    for i in range(n):
        out.append(rng.choice(alphabet))
        if i % 40 == 39:
            out.append("。\n")
    return "".join(out)


def test_text_hash_ignores_width_and_whitespace() -> None:
    assert text_sha256("機密性２情報\n  本文　です") == text_sha256("機密性2情報 本文 です")
    assert text_sha256("a b") != text_sha256("ab")
    assert text_sha256("   ") is None


def test_fingerprints_are_stable_64_bit_ints() -> None:
    fps = fingerprints(japanese(3000, 1))
    assert fps == fingerprints(japanese(3000, 1))
    assert all(-(2**63) <= f < 2**63 for f in fps)
    density = len(fps) / (3000 - K + 1)
    assert 0.5 * 2 / (W + 1) < density < 2 * 2 / (W + 1)
    assert set(unpack(pack(fps)).tolist()) == fps


def test_winnowing_guarantee_any_shared_run_of_w_plus_k_minus_1() -> None:
    doc = japanese(2000, 2)
    run = doc[700 : 700 + W + K - 1 + 5]
    other = japanese(500, 3) + run + japanese(500, 4)
    assert fingerprints(doc) & fingerprints(other)


def test_winnow_keeps_window_minima() -> None:
    import numpy as np

    from leaktrace.documents.fingerprint import window_minima

    h = np.array([5, 3, 3, 7, 9, 1, 1, 4], dtype=np.uint64)
    assert window_minima(h, 3).tolist() == [3, 3, 3, 1, 1, 1]
    assert winnow(h, 3).tolist() == [3, 1]
    rng = np.random.default_rng(0)
    r = rng.integers(0, 2**63, 500, dtype=np.uint64)
    for w in (1, 2, 3, 5, 16, 17):
        assert window_minima(r, w).tolist() == [int(r[i : i + w].min()) for i in range(len(r) - w + 1)]


def test_partial_copy_is_contained_unrelated_text_is_not() -> None:
    original = japanese(10000, 10)
    part = original[3000:6000]  # 30 % of the document pasted into another one
    leaked = japanese(4000, 11) + "\n" + part.replace("。", "。 ") + "\n" + japanese(4000, 12)
    unrelated = japanese(10000, 13)
    a, b, c = fingerprints(original), fingerprints(leaked), fingerprints(unrelated)
    assert 0.25 <= containment(a, b) <= 0.35  # ~30 % of the original is in the leaked text
    assert containment(a, c) < 0.01
    assert similarity(a, a) == 1.0
    assert similarity(a, c) < 0.01


def test_format_noise_does_not_break_matching() -> None:
    text = "The quick brown fox jumps over the lazy dog near the river bank every morning."
    noisy = text.upper().replace(" ", "  \n").replace(".", " .")
    assert containment(fingerprints(text), fingerprints(noisy)) == 1.0


def test_short_and_empty_texts() -> None:
    assert fingerprints("") == frozenset()
    assert len(fingerprints("機密性2")) == 1
    assert len(kgram_hashes("abc")) == 0
    assert containment(frozenset(), {1}) == 0.0
