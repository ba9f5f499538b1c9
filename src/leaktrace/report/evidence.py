"""The evidence package: one zip with the report (HTML in the chosen language + JSON), the STIX bundle, the
incident's findings and flows (CSV and Parquet) and ``manifest.json``, the SHA-256 and size of every member.

``verify_package`` recomputes the hashes; members are written in a fixed order with a fixed time, so the same
data gives the same bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from leaktrace.report.html import render_html
from leaktrace.report.json_report import render_json
from leaktrace.report.model import ReportData
from leaktrace.report.records import sha256, to_csv, to_parquet
from leaktrace.report.registry import RenderOptions, report_format
from leaktrace.report.stix import render_stix

MANIFEST = "manifest.json"


def record_files(data: ReportData) -> dict[str, bytes]:
    """The underlying records as files (the report's evidence section lists the CSV hashes)."""
    return {
        "records/findings.csv": to_csv(data.records.findings),
        "records/findings.parquet": to_parquet(data.records.findings),
        "records/flows.csv": to_csv(data.records.flows),
        "records/flows.parquet": to_parquet(data.records.flows),
    }


def package_members(data: ReportData, lang: str = "en") -> dict[str, bytes]:
    inc = data.incident.id
    members = {
        f"report/{inc}-{lang}.html": render_html(data, lang).encode("utf-8"),
        f"report/{inc}.json": render_json(data).encode("utf-8"),
        f"report/{inc}.stix.json": render_stix(data).encode("utf-8"),
    }
    members.update(record_files(data))
    return members


def manifest(data: ReportData, members: dict[str, bytes]) -> dict[str, Any]:
    return {
        "incident": data.incident.id,
        "tenant": data.tenant,
        "organisation": data.organisation,
        "generated_at": data.generated_at.isoformat(),
        "tlp": f"TLP:{data.tlp.upper()}",
        "algorithm": "sha256",
        "files": [{"name": n, "size": len(b), "sha256": sha256(b)} for n, b in sorted(members.items())],
    }


def build_package(data: ReportData, lang: str = "en") -> bytes:
    members = package_members(data, lang)
    man = json.dumps(manifest(data, members), ensure_ascii=False, indent=2).encode("utf-8")
    stamp = data.generated_at.timetuple()[:6]
    stamp = (max(1980, stamp[0]), *stamp[1:])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, body in [*sorted(members.items()), (MANIFEST, man)]:
            info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, body)
    return buf.getvalue()


def verify_package(blob: bytes) -> list[str]:
    """Problems found (empty when every member matches the manifest and nothing is missing or extra)."""
    problems: list[str] = []
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = set(zf.namelist())
        if MANIFEST not in names:
            return [f"no {MANIFEST}"]
        listed = json.loads(zf.read(MANIFEST))["files"]
        seen = set()
        for entry in listed:
            name = entry["name"]
            seen.add(name)
            if name not in names:
                problems.append(f"{name}: missing")
                continue
            body = zf.read(name)
            if sha256(body) != entry["sha256"] or len(body) != entry["size"]:
                problems.append(f"{name}: hash or size differs from the manifest")
        problems += [f"{n}: not in the manifest" for n in sorted(names - seen - {MANIFEST})]
    return problems


@report_format("evidence", "zip", "application/zip", "evidence package: report, records, hash manifest")
def _evidence(data: ReportData, options: RenderOptions) -> bytes:
    return build_package(data, options.lang)
