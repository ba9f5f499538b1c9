"""Registered domains (eTLD+1) with a small public-suffix table, in Python and as an Ibis expression.

The full Public Suffix List is large and changes; for grouping DNS names what matters is not splitting
``example.co.jp`` into ``co.jp``. We keep the common two-level ICANN suffixes (``co.jp``, ``ac.uk``, …)
plus any the caller adds; everything else is last-two-labels (so ``ns.ostrykebs.pl`` → ``ostrykebs.pl`` and
``x.example.attack`` → ``example.attack``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from typing import Any

import ibis

TWO_LEVEL_SUFFIXES = frozenset(
    f"{a}.{tld}"
    for tld, seconds in {
        "jp": "co ne or go ac ad ed gr lg",
        "uk": "co ac gov org ltd plc me net nhs sch police",
        "au": "com net org edu gov asn id",
        "nz": "co ac govt org net school",
        "kr": "co or ne go ac re",
        "cn": "com net org gov edu ac",
        "tw": "com net org gov edu idv",
        "hk": "com net org gov edu idv",
        "br": "com net org gov edu",
        "in": "co net org gov ac res",
        "za": "co org gov ac net",
        "sg": "com net org gov edu",
        "my": "com net org gov edu",
        "id": "co or go ac web",
        "th": "co or go ac in",
        "il": "co org gov ac net",
        "mx": "com net org gob edu",
        "tr": "com net org gov edu",
        "ar": "com net org gob edu",
        "pl": "com net org gov edu",
        "ru": "com net org",
        "ua": "com net org gov edu",
    }.items()
    for a in seconds.split()
)

_IP_RE = re.compile(r"^[0-9.]+$|:")


def looks_like_ip(name: str) -> bool:
    return bool(_IP_RE.search(name))


def normalise(name: str | None) -> str:
    return (name or "").strip().strip(".").lower()


@lru_cache(maxsize=65536)
def registered_domain(name: str | None) -> str:
    """``a.b.example.co.jp`` → ``example.co.jp``; an IP or a single label is returned as is."""
    n = normalise(name)
    if not n or looks_like_ip(n):
        return n
    labels = n.split(".")
    if len(labels) <= 2:
        return n
    if ".".join(labels[-2:]) in TWO_LEVEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def subdomain(name: str | None) -> str:
    n = normalise(name)
    reg = registered_domain(n)
    return n[: -len(reg) - 1] if len(n) > len(reg) else ""


def parents(name: str | None) -> list[str]:
    """The name and its parent domains down to the registered domain."""
    n = normalise(name)
    reg = registered_domain(n)
    out = [n]
    while n != reg and "." in n:
        n = n.split(".", 1)[1]
        out.append(n)
    return out


def common_zone(names: list[str]) -> str:
    """The longest common suffix (in labels) of ``names``, at least the registered domain."""
    if not names:
        return ""
    split = [normalise(n).split(".")[::-1] for n in names]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if all(p == parts[0] for p in parts):
            common.append(parts[0])
        else:
            break
    zone = ".".join(common[::-1])
    reg = registered_domain(names[0])
    if len(zone) < len(reg):
        return reg
    # never the full name of a single query: keep at least one label off
    if len(names) > 1 and zone in {normalise(n) for n in names} and len(set(names)) > 1:
        return zone.split(".", 1)[1] if "." in zone else zone
    return zone


def shannon_entropy(text: str) -> float:
    """Bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def registered_domain_expr(col: Any) -> Any:
    """The Ibis version of :func:`registered_domain` (portable regular expressions only)."""
    n = col.lower().re_replace(r"\.$", "")
    last2 = n.re_extract(r"([^.]+\.[^.]+)$", 1)
    last3 = n.re_extract(r"([^.]+\.[^.]+\.[^.]+)$", 1)
    return ibis.cases(
        (n.re_search(r"^[0-9.]+$") | n.contains(":"), n),
        (last2 == "", n),
        (last2.isin(sorted(TWO_LEVEL_SUFFIXES)) & (last3 != ""), last3),
        else_=last2,
    )
