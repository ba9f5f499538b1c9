"""Text normalisation shared by the classifier, the PII finder and the fingerprints."""

from __future__ import annotations

import re
import unicodedata

# Hyphen look-alikes that survive NFKC (U+2010..U+2015, minus, small/full-width hyphen-minus).
_HYPHENS = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d\u2043"})
_LONG_VOWEL_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])[\u30fc\uff70](?=[0-9])")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_NOT_ALNUM = re.compile(r"[\W_]+")


def nfkc(text: str) -> str:
    """NFKC plus hyphen unification (ー between digits is a typed hyphen)."""
    text = unicodedata.normalize("NFKC", text).translate(_HYPHENS)
    return _LONG_VOWEL_BETWEEN_DIGITS.sub("-", text)


def collapse_spaces(text: str) -> str:
    return _SPACES.sub(" ", text)


def normalized_text_for_hash(text: str) -> str:
    """The text whose SHA-256 identifies "same text, any format": NFKC, whitespace collapsed to one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def fingerprint_text(text: str) -> str:
    """Characters used for k-grams: NFKC, case-folded, letters and digits only (no spaces or punctuation)."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())
