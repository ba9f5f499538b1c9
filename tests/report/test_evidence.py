"""The evidence package: members, manifest of SHA-256 hashes, verification, tamper detection."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pyarrow.parquet as pq

from leaktrace.report import render
from leaktrace.report.evidence import MANIFEST, build_package, verify_package
from tests.report.sample import HOST_NAME, sample_data


def _rezip(blob: bytes, change: dict[str, bytes | None]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = change.get(name, src.read(name)) if name in change else src.read(name)
            if body is not None:
                dst.writestr(name, body)
        for name, body in change.items():
            if name not in src.namelist() and body is not None:
                dst.writestr(name, body)
    return out.getvalue()


def test_package_members_and_manifest_verify() -> None:
    data = sample_data()
    blob = render(data, "evidence", lang="ja")
    assert blob == build_package(data, "ja")  # deterministic bytes
    assert verify_package(blob) == []
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = set(zf.namelist())
        assert {"report/INC-0007-ja.html", "report/INC-0007.json", "report/INC-0007.stix.json",
                "records/findings.csv", "records/findings.parquet", "records/flows.csv", "records/flows.parquet",
                MANIFEST} == names
        manifest = json.loads(zf.read(MANIFEST))
        assert manifest["algorithm"] == "sha256" and manifest["incident"] == "INC-0007"
        assert {f["name"] for f in manifest["files"]} == names - {MANIFEST}
        for entry in manifest["files"]:
            assert hashlib.sha256(zf.read(entry["name"])).hexdigest() == entry["sha256"]
        assert HOST_NAME in zf.read("report/INC-0007-ja.html").decode()
        flows = pq.read_table(io.BytesIO(zf.read("records/flows.parquet")))
        assert flows.num_rows == len(data.records.flows)
        csv_text = zf.read("records/flows.csv").decode("utf-8-sig")
        assert csv_text.splitlines()[0].startswith("ts,uid,src_ip")
        assert len(csv_text.splitlines()) == len(data.records.flows) + 1


def test_tampering_is_detected() -> None:
    blob = build_package(sample_data())
    changed = _rezip(blob, {"records/flows.csv": b"ts\n"})
    assert verify_package(changed) == ["records/flows.csv: hash or size differs from the manifest"]
    extra = _rezip(blob, {"notes.txt": b"x"})
    assert verify_package(extra) == ["notes.txt: not in the manifest"]
    missing = _rezip(blob, {"records/flows.parquet": None})
    assert verify_package(missing) == ["records/flows.parquet: missing"]
    assert verify_package(_rezip(blob, {MANIFEST: None})) == [f"no {MANIFEST}"]
