"""Indicators of compromise and their loaders: STIX 2.1 bundles, MISP JSON events, CSV and plain lists.

Every loader yields :class:`Indicator` (type, value, source, confidence, description). Types: ``ip``,
``cidr``, ``domain``, ``url``, ``md5``, ``sha1``, ``sha256``, ``ja3``. A 32-hex value from a plain list is
typed ``md5`` and is matched against file MD5s and JA3 fingerprints alike.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from leaktrace.errors import IngestError, Location

TYPES = ("ip", "cidr", "domain", "url", "md5", "sha1", "sha256", "ja3")


class Indicator(BaseModel):
    type: str
    value: str
    source: str = ""
    confidence: float = Field(default=0.8, ge=0, le=1)
    description: str = ""

    def model_post_init(self, __context: Any) -> None:
        self.value = normalise_value(self.type, self.value)

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.value)


def normalise_value(kind: str, value: str) -> str:
    v = value.strip()
    if kind in ("domain",):
        return v.lower().strip(".")
    if kind in ("md5", "sha1", "sha256", "ja3"):
        return v.lower()
    if kind == "url":
        return re.sub(r"^[a-z]+://", "", v, flags=re.I).rstrip("/")
    return v


def guess_type(value: str) -> str | None:
    v = value.strip()
    if not v or v.startswith("#"):
        return None
    try:
        ipaddress.ip_address(v)
        return "ip"
    except ValueError:
        pass
    if "/" in v and not v.lower().startswith(("http", "ftp")):
        try:
            ipaddress.ip_network(v, strict=False)
            return "cidr"
        except ValueError:
            pass
    if re.fullmatch(r"[a-fA-F0-9]{64}", v):
        return "sha256"
    if re.fullmatch(r"[a-fA-F0-9]{40}", v):
        return "sha1"
    if re.fullmatch(r"[a-fA-F0-9]{32}", v):
        return "md5"
    if re.match(r"^[a-z]+://", v, re.I) or "/" in v:
        return "url"
    if re.fullmatch(r"[A-Za-z0-9_.-]+\.[A-Za-z0-9-]{2,}\.?", v):
        return "domain"
    return None


# -- STIX 2.1 -------------------------------------------------------------------------------------------------
_STIX_CMP = re.compile(r"([a-z0-9-]+):([A-Za-z0-9_.'\-]+)\s*=\s*'((?:[^'\\]|\\.)*)'")
_STIX_TYPES = {
    ("ipv4-addr", "value"): "ip",
    ("ipv6-addr", "value"): "ip",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("x-ja3", "value"): "ja3",
}


def _stix_type(obj: str, prop: str) -> str | None:
    if (obj, prop) in _STIX_TYPES:
        return _STIX_TYPES[(obj, prop)]
    p = prop.lower().replace("'", "").replace("-", "")
    if obj == "file" and p.startswith("hashes."):
        algo = p.split(".", 1)[1]
        return {"md5": "md5", "sha1": "sha1", "sha256": "sha256"}.get(algo)
    if "ja3" in p:
        return "ja3"
    return None


def parse_stix_pattern(pattern: str) -> list[tuple[str, str]]:
    out = []
    for obj, prop, value in _STIX_CMP.findall(pattern):
        kind = _stix_type(obj, prop)
        if kind:
            value = value.replace("\\'", "'")
            if kind == "ip" and "/" in value:
                kind = "cidr"
            out.append((kind, value))
    return out


def load_stix(data: dict[str, Any], source: str) -> Iterator[Indicator]:
    objects = data.get("objects", []) if data.get("type") == "bundle" else [data]
    for obj in objects:
        kind = str(obj.get("type", ""))
        conf = obj.get("confidence")
        confidence = min(1.0, max(0.0, conf / 100)) if isinstance(conf, int | float) else 0.8
        if kind == "indicator" and obj.get("pattern_type", "stix") == "stix":
            for t, v in parse_stix_pattern(obj.get("pattern", "")):
                yield Indicator(
                    type=t,
                    value=v,
                    source=source,
                    confidence=confidence,
                    description=obj.get("name") or obj.get("description") or obj.get("id", ""),
                )
        elif (kind, "value") in _STIX_TYPES and obj.get("value"):
            yield Indicator(type=_STIX_TYPES[(kind, "value")], value=obj["value"], source=source)


# -- MISP -----------------------------------------------------------------------------------------------------
_MISP_TYPES = {
    "ip-dst": "ip",
    "ip-src": "ip",
    "domain": "domain",
    "hostname": "domain",
    "url": "url",
    "uri": "url",
    "link": "url",
    "ip": "ip",
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "ja3-fingerprint-md5": "ja3",
}


def _misp_attr(attr: dict[str, Any], source: str, info: str) -> Iterator[Indicator]:
    t = str(attr.get("type", ""))
    value = str(attr.get("value", ""))
    if not value:
        return
    parts = t.split("|")
    values = value.split("|")
    for pt, pv in zip(parts, values, strict=False):
        if pt in ("ip-dst", "ip-src") and "/" in pv:
            yield Indicator(type="cidr", value=pv, source=source, description=info)
        elif pt in _MISP_TYPES:
            yield Indicator(type=_MISP_TYPES[pt], value=pv, source=source, description=info)
        elif pt == "filename" or pt == "port":
            continue


def load_misp(data: Any, source: str) -> Iterator[Indicator]:
    events: list[dict[str, Any]] = []
    if isinstance(data, dict) and "response" in data:
        data = data["response"]
    items = data if isinstance(data, list) else [data]
    for item in items:
        ev = item.get("Event", item) if isinstance(item, dict) else {}
        events.append(ev)
    for ev in events:
        info = str(ev.get("info", ""))
        for attr in ev.get("Attribute", []):
            yield from _misp_attr(attr, source, info)
        for obj in ev.get("Object", []):
            for attr in obj.get("Attribute", []):
                yield from _misp_attr(attr, source, info)


# -- CSV / plain ----------------------------------------------------------------------------------------------
def load_text(text: str, source: str) -> Iterator[Indicator]:
    sample = text[:4096]
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    if "," in sample and ("value" in header or "indicator" in header):
        reader = csv.DictReader(io.StringIO("\n".join(lines)))
        for row in reader:
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            value = row.get("value") or row.get("indicator") or ""
            kind = (row.get("type") or "").lower() or guess_type(value)
            kind = _MISP_TYPES.get(kind, kind) if kind else None
            if kind in TYPES and value:
                yield Indicator(type=kind, value=value, source=source, description=row.get("description", ""))
        return
    for ln in lines:
        value = ln.split(",")[0].split()[0] if ln.split() else ""
        kind = guess_type(value)
        if kind:
            yield Indicator(type=kind, value=value, source=source)


def load_file(path: Path) -> list[Indicator]:
    """Read indicators from a STIX 2.1 bundle, a MISP event (JSON), or a CSV/plain list (auto-detected)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise IngestError(f"cannot read indicators: {exc}", Location(path=str(path))) from None
    source = path.name
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(
                f"not valid JSON: {exc.msg}", Location(path=str(path), line=exc.lineno)
            ) from None
        if isinstance(data, dict) and (data.get("type") == "bundle" or "spec_version" in data):
            found = list(load_stix(data, source))
        else:
            found = list(load_misp(data, source))
    else:
        found = list(load_text(text, source))
    return dedupe(found)


def dedupe(items: Iterable[Indicator]) -> list[Indicator]:
    seen: dict[tuple[str, str], Indicator] = {}
    for i in items:
        seen.setdefault(i.key, i)
    return list(seen.values())
