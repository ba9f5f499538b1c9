"""Read a document's sensitivity level from its markings, MSIP labels and file name, under one scheme.

Where a marking counts (NFKC text, no word boundaries, see ``schemes``):

============  ==========================================  ===========================  ==========
zone          normal level (機密性2, TLP:AMBER …)          strict level (秘, 極秘 …)      confidence
============  ==========================================  ===========================  ==========
stamp         anywhere                                    own line / in brackets        0.90
header        anywhere                                    own line / in brackets        0.90
footer        anywhere                                    own line / in brackets        0.85
first lines   at line start or end, own line, brackets    own line / in brackets        0.80
subject       anywhere                                    in brackets                   0.75
properties    anywhere                                    own line                      0.70
filename      anywhere (+ CxIxAx shorthand)               in brackets                   0.70
body          own line / in brackets                      own line / in brackets        0.50
============  ==========================================  ===========================  ==========

MSIP labels: label id mapped by ``classification.msip_labels`` (0.95), otherwise the label name matched by
the scheme's patterns (0.70) or its ``label_hints`` (0.50). The highest rank wins; evidence of every level is
kept; the winner's confidence combines its independent channels (1 - Π(1 - c)).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from leaktrace.documents.model import Classification, Evidence, Extraction, MsipLabel, Zone
from leaktrace.documents.normalize import nfkc
from leaktrace.documents.schemes import Level, Scheme
from leaktrace.errors import ConfigError, Location

ZONE_CONFIDENCE: dict[Zone, float] = {
    Zone.STAMP: 0.90,
    Zone.HEADER: 0.90,
    Zone.FOOTER: 0.85,
    Zone.FIRST_LINES: 0.80,
    Zone.SUBJECT: 0.75,
    Zone.PROPERTIES: 0.70,
    Zone.FILENAME: 0.70,
    Zone.BODY: 0.50,
}
MSIP_MAPPED, MSIP_NAME, MSIP_HINT = 0.95, 0.70, 0.50
MAX_EVIDENCE = 25

OPEN = "【〔[(<《「『〈{"
CLOSE = "】〕])>》」』〉}"
_DECOR = " \t*■□◆◇●○◎★☆※"
_JOIN = "・/|:,、-_ " + _DECOR


@dataclass(frozen=True)
class _Anchor:
    alone: bool
    bracketed: bool
    start: bool
    end: bool


def _anchor(text: str, s: int, e: int, qualifier_res: list[re.Pattern[str]]) -> _Anchor:
    ls = text.rfind("\n", 0, s) + 1
    le = text.find("\n", e)
    le = len(text) if le < 0 else le
    before, after = text[ls:s], text[e:le]
    rest = before + " " + after
    for q in qualifier_res:
        rest = q.sub(" ", rest)
    alone = rest.strip(OPEN + CLOSE + _JOIN + "。.") == ""
    b, a = before.rstrip(" "), after.lstrip(" ")
    bracketed = bool(b) and b[-1] in OPEN and bool(a) and (a[0] in CLOSE or a[0] in "・/")
    start = before.strip(OPEN + _DECOR) == ""
    end = after.strip(CLOSE + _DECOR + "。.") == ""
    return _Anchor(alone, bracketed, start, end)


def _accept(zone: Zone, strict: bool, a: _Anchor) -> bool:
    if zone in (Zone.STAMP, Zone.HEADER, Zone.FOOTER):
        return not strict or a.alone or a.bracketed
    if zone == Zone.FIRST_LINES:
        return a.alone or a.bracketed or (not strict and (a.start or a.end))
    if zone in (Zone.SUBJECT, Zone.FILENAME):
        return a.bracketed if strict else True
    if zone == Zone.PROPERTIES:
        return a.alone if strict else True
    return a.alone or a.bracketed


def _norm_guid(g: str) -> str:
    return g.strip().strip("{}").lower()


class Classifier:
    """Classify extractions under one scheme. Construct once, reuse for every document."""

    def __init__(self, scheme: Scheme, msip_labels: Mapping[str, str] | None = None) -> None:
        self.scheme = scheme
        self.msip_map: dict[str, Level] = {}
        for guid, level_name in (msip_labels or {}).items():
            level = scheme.level(level_name)
            if level is None:
                known = ", ".join(lv.name for lv in scheme.levels)
                raise ConfigError(
                    f"MSIP label maps to unknown level '{level_name}' of scheme '{scheme.name}' (known: {known})",
                    Location(key=f"classification.msip_labels.{guid}"),
                )
            self.msip_map[_norm_guid(guid)] = level
        self._quals = [scheme.regex(f"q:{i}", q) for i, q in enumerate(scheme.qualifiers)]
        self._open_quals = [scheme.regex(f"oq:{i}", q) for i, q in enumerate(scheme.open_qualifiers)]
        self._levels = [
            (lv, [scheme.regex(f"l:{lv.name}:{i}", p) for i, p in enumerate(lv.patterns)],
             [scheme.regex(f"f:{lv.name}:{i}", p) for i, p in enumerate(lv.filename_patterns)])
            for lv in scheme.levels
        ]

    # -- visible markings ---------------------------------------------------------------------------------
    def markings(self, zone: Zone, text: str, where: str = "") -> tuple[list[Evidence], list[str]]:
        """Level evidence and qualifiers found in one piece of text of one zone."""
        norm = nfkc(text)
        found: list[Evidence] = []
        conf = ZONE_CONFIDENCE[zone]
        for level, pats, fpats in self._levels:
            use = pats + (fpats if zone in (Zone.FILENAME, Zone.SUBJECT) else [])
            for pat in use:
                for m in pat.finditer(norm):
                    if _accept(zone, level.strict, _anchor(norm, m.start(), m.end(), self._quals)):
                        found.append(Evidence(level.name, str(zone), m.group(0), conf, where))
        return found, self._qualifiers(zone, norm)

    def _qualifiers(self, zone: Zone, norm: str) -> list[str]:
        out: list[str] = []
        pats = list(self._quals)
        if zone in (Zone.STAMP, Zone.HEADER, Zone.FOOTER):
            pats += self._open_quals
        for pat in pats:
            for m in pat.finditer(norm):
                if zone == Zone.BODY and not (a := _anchor(norm, m.start(), m.end(), [])).alone and not a.bracketed:
                    continue
                if m.group(0) not in out:
                    out.append(m.group(0))
        return out

    # -- MSIP labels ---------------------------------------------------------------------------------------
    def label_evidence(self, label: MsipLabel) -> Evidence | None:
        if not label.enabled:
            return None
        channel = f"msip-label:{label.source}"
        marking = f"MSIP:{label.label_id}" + (f" ({label.name})" if label.name else "")
        mapped = self.msip_map.get(_norm_guid(label.label_id))
        if mapped is not None:
            return Evidence(mapped.name, channel, marking, MSIP_MAPPED)
        if not label.name:
            return Evidence(None, channel, marking, 0.0)
        name = nfkc(label.name)
        best: tuple[int, Level, float] | None = None
        for level, pats, _ in self._levels:
            if any(p.search(name) for p in pats) and (best is None or level.rank > best[0]):
                best = (level.rank, level, MSIP_NAME)
        if best is None:
            low = name.lower()
            hits = [(len(h), lv) for lv in self.scheme.levels for h in lv.label_hints if h in low]
            if hits:
                lv = max(hits, key=lambda t: (t[0], t[1].rank))[1]
                best = (lv.rank, lv, MSIP_HINT)
        if best is None:
            return Evidence(None, channel, marking, 0.0)
        return Evidence(best[1].name, channel, marking, best[2])

    # -- whole document ------------------------------------------------------------------------------------
    def classify(self, extraction: Extraction, extra: Iterable[Evidence] = ()) -> Classification:
        evidence: list[Evidence] = list(extra)
        qualifiers: list[str] = []
        for seg in extraction.segments:
            ev, qs = self.markings(seg.zone, seg.text, seg.where)
            evidence.extend(ev)
            qualifiers.extend(q for q in qs if q not in qualifiers)
        for label in extraction.labels:
            le = self.label_evidence(label)
            if le is not None:
                evidence.append(le)
        return self.combine(evidence, qualifiers)

    def combine(self, evidence: list[Evidence], qualifiers: list[str]) -> Classification:
        result = Classification(scheme=self.scheme.name, qualifiers=qualifiers)
        seen: set[tuple[str | None, str, str]] = set()
        for ev in evidence:
            key = (ev.level, ev.channel, ev.marking)
            if key not in seen and len(result.evidence) < MAX_EVIDENCE:
                seen.add(key)
                result.evidence.append(ev)
        ranked = [(self.scheme.level(ev.level), ev) for ev in evidence if ev.level]
        ranked_ok = [(lv, ev) for lv, ev in ranked if lv is not None and ev.confidence > 0]
        if not ranked_ok:
            return result
        top = max(lv.rank for lv, _ in ranked_ok)
        winners = [ev for lv, ev in ranked_ok if lv.rank == top]
        result.level = winners[0].level
        result.rank = top
        best_per_channel: dict[str, float] = {}
        for ev in winners:
            best_per_channel[ev.channel] = max(best_per_channel.get(ev.channel, 0.0), ev.confidence)
        miss = 1.0
        for c in best_per_channel.values():
            miss *= 1.0 - c
        result.confidence = round(min(0.99, 1.0 - miss), 3)
        result.channels = sorted(best_per_channel)
        return result
