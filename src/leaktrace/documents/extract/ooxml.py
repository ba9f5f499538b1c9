"""Parts shared by docx/xlsx/pptx: core and custom properties, MSIP labels, docMetadata/LabelInfo.xml."""

from __future__ import annotations

import re
import zipfile
from typing import Any

from leaktrace.documents.extract.base import Context, LimitExceeded, parse_xml
from leaktrace.documents.model import Extraction, MsipLabel, Zone

CP = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CLBL = "{http://schemas.microsoft.com/office/2020/mipLabelMetadata}"
LABELS_REL = "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels"
MSIP_KEY = re.compile(r"^MSIP_Label_([0-9A-Fa-f-]{36})_(\w+)$")
_CORE_SUBJECT = {"title"}
_CORE_PROPS = {"subject", "keywords", "category", "description", "contentStatus"}
MAX_PART = 64 * 1024 * 1024


def read_part(zf: zipfile.ZipFile, name: str, ctx: Context) -> bytes | None:
    """A part's bytes, or None if absent; refuses parts over the member limit or ratio (XML bombs)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    limit = min(MAX_PART, ctx.limits.max_member_bytes)
    if info.file_size > limit:
        raise LimitExceeded(f"part {name} is {info.file_size} bytes (limit {limit})")
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise LimitExceeded(f"part {name} exceeds {limit} bytes")
    return data


def xml_part(zf: zipfile.ZipFile, name: str, ctx: Context) -> Any | None:
    data = read_part(zf, name, ctx)
    return None if data is None else parse_xml(data)


def local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def msip_labels_from_pairs(pairs: dict[str, str], source: str) -> list[MsipLabel]:
    """Group ``MSIP_Label_<guid>_<Attr>`` = value pairs into labels."""
    attrs: dict[str, dict[str, str]] = {}
    for key, value in pairs.items():
        m = MSIP_KEY.match(key.strip())
        if m:
            attrs.setdefault(m.group(1).lower(), {})[m.group(2).lower()] = value.strip()
    return [
        MsipLabel(
            label_id=guid,
            name=a.get("name"),
            site_id=(a.get("siteid") or "").strip("{}").lower() or None,
            enabled=a.get("enabled", "true").lower() in ("true", "1"),
            source=source,
        )
        for guid, a in attrs.items()
    ]


def add_properties(zf: zipfile.ZipFile, ex: Extraction, ctx: Context) -> None:
    """Core properties, custom properties (incl. MSIP labels) and LabelInfo.xml into ``ex``."""
    core = xml_part(zf, "docProps/core.xml", ctx)
    if core is not None:
        for el in core:
            name, text = local(el.tag), (el.text or "").strip()
            if not text:
                continue
            if name in _CORE_SUBJECT:
                ex.title = ex.title or text
                ex.add(Zone.SUBJECT, text, "core:title")
            elif name in _CORE_PROPS:
                ex.add(Zone.PROPERTIES, text, f"core:{name}")
    custom = xml_part(zf, "docProps/custom.xml", ctx)
    pairs: dict[str, str] = {}
    if custom is not None:
        for prop in custom.iter(f"{CP}property"):
            key = prop.get("name") or ""
            value = "".join(t for t in prop.itertext()).strip()
            pairs[key] = value
            if not key.startswith("MSIP_Label_") and value:
                ex.add(Zone.PROPERTIES, value, f"custom:{key}")
    labels = label_info(zf, ctx)
    known = {lb.label_id for lb in labels}
    for lb in msip_labels_from_pairs(pairs, "custom-properties"):
        if lb.label_id in known:  # LabelInfo has no name: take it from the custom property
            labels = [
                MsipLabel(x.label_id, lb.name, x.site_id, x.enabled, x.source) if x.label_id == lb.label_id else x
                for x in labels
            ]
        else:
            labels.append(lb)
    ex.labels.extend(labels)


def label_info(zf: zipfile.ZipFile, ctx: Context) -> list[MsipLabel]:
    """Labels from the sensitivity-label part (MS-OFFCRYPTO 2.6.4); ignores disabled/removed labels."""
    name = "docMetadata/LabelInfo.xml"
    rels = xml_part(zf, "_rels/.rels", ctx)
    if rels is not None:
        for rel in rels.iter(f"{RELS}Relationship"):
            if rel.get("Type") == LABELS_REL and rel.get("Target"):
                name = str(rel.get("Target")).lstrip("/")
    root = xml_part(zf, name, ctx)
    if root is None:
        return []
    out = []
    for el in root.iter(f"{CLBL}label"):
        enabled = (el.get("enabled") or "0").lower() in ("1", "true")
        removed = (el.get("removed") or "0").lower() in ("1", "true")
        if el.get("id") and not removed:
            out.append(
                MsipLabel(
                    label_id=str(el.get("id")).strip("{}").lower(),
                    site_id=(el.get("siteId") or "").strip("{}").lower() or None,
                    enabled=enabled,
                    source="LabelInfo.xml",
                )
            )
    return out
