"""Document fingerprints: file SHA-256, normalised-text SHA-256 and winnowed character k-grams.

Winnowing (Schleimer, Wilkerson, Aiken, SIGMOD 2003) over the text reduced to letters and digits (NFKC,
case-folded, no spaces/punctuation, so a PDF print of a .docx or a re-wrapped paste still matches):

* ``K = 12`` characters per k-gram: the noise threshold. Nothing shorter than 12 characters is ever a match,
  which keeps shared stock phrases (「よろしくお願いいたします」 is 12) mostly out; 12 kanji/kana carry about as
  much as 3-4 English words.
* ``W = 16`` k-grams per window: any shared run of at least ``W + K - 1 = 27`` characters is guaranteed to share
  a fingerprint (a Japanese sentence, half an English one). Density is about ``2 / (W + 1)`` = 12 % of
  positions: ~1,200 fingerprints (9.4 KB) for a 10,000-character document.
* k-gram hashes: polynomial hash of the code points mod 2^64 (vectorised with numpy), then a splitmix64
  finaliser so the low bits are well mixed; winnowing keeps the minimum of each window (window minima
  by doubling, a few vectorised passes).
  Values are stored as signed 64-bit ints (SQLite's integer range).

Texts shorter than K characters get one fingerprint: the hash of the whole (normalised) text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection

import numpy as np

from leaktrace.documents.normalize import fingerprint_text, normalized_text_for_hash

K = 12
W = 16
_BASE = np.uint64(1_000_003)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_sha256(text: str) -> str | None:
    """SHA-256 of the NFKC, whitespace-collapsed text, or None when there is no text."""
    norm = normalized_text_for_hash(text)
    return hashlib.sha256(norm.encode("utf-8")).hexdigest() if norm else None


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(30))
    h = h * _M1
    h = h ^ (h >> np.uint64(27))
    h = h * _M2
    return h ^ (h >> np.uint64(31))


def kgram_hashes(chars: str, k: int = K) -> np.ndarray:
    """uint64 hash of every k-gram of ``chars`` (already normalised)."""
    codes = np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _BASE + codes[j : j + n]
        return _mix(h)


def window_minima(hashes: np.ndarray, w: int) -> np.ndarray:
    """min(hashes[i : i + w]) for every full window, by doubling (log2 w vectorised passes)."""
    m, width = hashes, 1
    while width * 2 <= w:
        m = np.minimum(m[:-width], m[width:])
        width *= 2
    if width < w:  # two overlapping power-of-two windows cover any width
        m = np.minimum(m[: len(hashes) - w + 1], m[w - width : w - width + len(hashes) - w + 1])
    return m


def winnow(hashes: np.ndarray, w: int = W) -> np.ndarray:
    """Winnowing: the minimum hash of every window of ``w`` hashes (consecutive repeats dropped).

    Only hash *values* are kept (a set of fingerprints), so the tie-breaking rule between equal hashes in
    one window (robust winnowing picks the rightmost) does not change the result.
    """
    if len(hashes) == 0:
        return hashes
    if len(hashes) <= w:
        return hashes[[int(np.argmin(hashes))]]
    m = window_minima(hashes, w)
    keep = np.ones(len(m), dtype=bool)
    keep[1:] = m[1:] != m[:-1]
    return m[keep]


def fingerprints(text: str, k: int = K, w: int = W) -> frozenset[int]:
    """Winnowed fingerprints of a text as signed 64-bit ints (empty for text without letters/digits)."""
    chars = fingerprint_text(text)
    if not chars:
        return frozenset()
    if len(chars) < k:
        digest = hashlib.blake2b(chars.encode("utf-8"), digest_size=8).digest()
        return frozenset([int.from_bytes(digest, "little", signed=True)])
    selected = winnow(kgram_hashes(chars, k), w)
    return frozenset(selected.view(np.int64).tolist())


def containment(a: Collection[int], b: Collection[int]) -> float:
    """Share of ``a``'s fingerprints found in ``b`` ("how much of a is in b"); 0.0 when a is empty."""
    if not a:
        return 0.0
    sa = a if isinstance(a, (set, frozenset)) else set(a)
    sb = b if isinstance(b, (set, frozenset)) else set(b)
    return len(sa & sb) / len(sa)


def similarity(a: Collection[int], b: Collection[int]) -> float:
    """Jaccard resemblance of two fingerprint sets (for near-duplicate clustering)."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return len(sa & sb) / union if union else 0.0


def pack(fps: Collection[int]) -> bytes:
    """Compact storage: sorted little-endian int64."""
    return np.array(sorted(fps), dtype="<i8").tobytes()


def unpack(blob: bytes | None) -> np.ndarray:
    if not blob:
        return np.zeros(0, dtype=np.int64)
    return np.frombuffer(blob, dtype="<i8").astype(np.int64)
