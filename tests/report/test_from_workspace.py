"""From a real (small) workspace: flows in the lake, analysis, a block; then the builder, every format, the CLI."""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from leaktrace.lake import Lake
from leaktrace.report import ReportData, build_report_data, formats, render
from leaktrace.report.evidence import verify_package
from leaktrace.schema import TABLES, conform
from leaktrace.workspace import Workspace

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
HOST, C2 = "10.0.0.5", "203.0.113.9"


def _flow(src: str, dst: str, t: float, out: int, inn: int, n: int) -> dict[str, Any]:
    return {"ts": T0 + timedelta(seconds=t), "uid": f"C{n}", "src_ip": src, "src_port": 40000 + n % 20000,
            "dst_ip": dst, "dst_port": 443, "proto": "tcp", "duration": 1.0, "bytes_out": out, "bytes_in": inn,
            "ip_bytes_out": out + 40, "ip_bytes_in": inn + 40, "state": "SF", "tenant": "default"}


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    schema = TABLES["conn"]
    return conform("conn", pa.table({f.name: pa.array([r.get(f.name) for r in rows], type=f.type)
                                     for f in schema}))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, str]:
    from leaktrace.incidents import analyze
    from leaktrace.respond.store import ActionStore

    root = tmp_path_factory.mktemp("report") / "ws"
    ws = Workspace.init(root)
    cfg = root / "leaktrace.toml"
    hosts = f'[[assets.hosts]]\nip = "{HOST}"\nname = "pc-0005"\nuser = "tanaka.taro"\n'
    cfg.write_text(re.sub(r"\[assets\]\n(#.*\n)?hosts = \[\]\n", hosts, cfg.read_text(encoding="utf-8")),
                   encoding="utf-8")
    ws = Workspace.open(root)
    rnd = random.Random(2)
    rows, t, n = [], 0.0, 0
    while t < 10 * 3600:
        rows.append(_flow(HOST, C2, t, 220, 500, n))
        t += 60 * rnd.uniform(0.8, 1.2)
        n += 1
    rows.append(_flow(HOST, C2, 11 * 3600, 15_000_000, 20_000, n))
    for h in range(1, 30):
        rows.append(_flow(f"10.0.1.{h}", "198.51.100.1", rnd.uniform(0, 36_000), 30_000, 1000, 10_000 + h))
    lake = Lake(ws.lake_dir)
    batch = lake.stage("default", "a", "a", "test")
    batch.write("conn", "2026-03-02", _table(rows))
    assert lake.commit(batch)
    result = analyze(ws)
    inc = next(i for i in result.incidents if i.host_ip == HOST and i.server_ip == C2)
    ActionStore.for_state_dir(ws.state_dir).create_action(
        "block", "yamada.hanako", kind="block", target=C2, target_kind="ip", backend="csv",
        rule_text=C2, reason="exfiltration", incident_id=inc.id, status="active")
    return ws, inc.id


@pytest.fixture(scope="module")
def data(workspace: tuple[Workspace, str]) -> ReportData:
    ws, incident_id = workspace
    return build_report_data(ws, incident_id, now=datetime(2026, 3, 3, tzinfo=UTC))


def test_builder_gathers_the_incident(data: ReportData) -> None:
    inc = data.incident
    assert (inc.host_ip, inc.server_ip, inc.host_name, inc.host_user) == (HOST, C2, "pc-0005", "tanaka.taro")
    assert data.findings and data.records.findings and len(data.records.flows) > 500
    assert all(f["src_ip"] == HOST and f["dst_ip"] == C2 for f in data.records.flows)
    assert [a.target for a in data.actions] == [C2] and data.actions[0].id.startswith("ACT-")
    assert data.charts.traffic and sum(b.bytes_out for b in data.charts.traffic) >= 15_000_000
    assert 40 < sorted(data.charts.beacon_intervals)[len(data.charts.beacon_intervals) // 2] < 80
    assert data.internal_networks and data.organisation == "default"
    kinds = {e.kind for e in data.evidence}
    assert "record-set" in kinds


def test_every_format_renders_from_the_workspace(data: ReportData) -> None:
    for name in formats.names():
        for lang in ("ja", "en"):
            if name == "pdf" and lang == "en":
                continue  # one PDF is enough here (the golden tests render both)
            try:
                body = render(data, name, lang=lang)
            except Exception as exc:  # pragma: no cover - names the failing format
                raise AssertionError(f"{name}/{lang}: {exc}") from exc
            assert body, name


def test_report_hashes_match_the_evidence_package(data: ReportData) -> None:
    blob = render(data, "evidence")
    assert verify_package(blob) == []
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        manifest = {f["name"]: f["sha256"] for f in json.loads(zf.read("manifest.json"))["files"]}
    listed = {e.name: e.sha256 for e in data.evidence if e.kind == "record-set"}
    assert listed and all(manifest[name] == digest for name, digest in listed.items())


def test_notice_from_the_workspace_hides_host_and_user(data: ReportData) -> None:
    for lang in ("ja", "en"):
        text = render(data, "notice", lang=lang).decode()
        for item in (HOST, "pc-0005", "tanaka.taro", "yamada.hanako", C2):
            assert item not in text


def test_cli_writes_reports(workspace: tuple[Workspace, str], tmp_path: Path) -> None:
    from leaktrace.cli import report_cmds  # noqa: F401  (adds the command until app.py lists it)
    from leaktrace.cli.app import app, load_commands

    load_commands()

    ws, incident_id = workspace
    runner = CliRunner()
    out = tmp_path / "r.stix.json"
    res = runner.invoke(app, ["report", incident_id, "-w", str(ws.root), "--format", "stix", "--tlp", "red",
                              "--org", "Example CSIRT", "-o", str(out)])
    assert res.exit_code == 0, res.output
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert any(o.get("name") == "TLP:RED" for o in bundle["objects"])
    assert any(o.get("name") == "Example CSIRT" for o in bundle["objects"])
    res = runner.invoke(app, ["report", incident_id, "-w", str(ws.root), "--format", "md", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert (ws.reports_dir / f"{incident_id}-en.md").read_text(encoding="utf-8").startswith("# Incident report")
    settings = tmp_path / "report.toml"
    settings.write_text('organisation = "X"\n[redaction]\nbogus = 1\n', encoding="utf-8")
    res = runner.invoke(app, ["report", incident_id, "-w", str(ws.root), "--format", "notice",
                              "--settings", str(settings)])
    assert res.exit_code != 0 and "bogus" in str(res.exception)
    res = runner.invoke(app, ["report", incident_id, "-w", str(ws.root), "--format", "docx"])
    assert res.exit_code != 0 and "unknown report format 'docx'" in str(res.exception)


def test_demo_stage_writes_the_reports(workspace: tuple[Workspace, str]) -> None:
    from leaktrace.cli.report_cmds import demo_stage

    ws, _ = workspace
    demo_stage(ws, ws.root, {})
    written = {p.suffix for p in ws.reports_dir.iterdir()}
    assert {".html", ".pdf", ".json", ".txt"} <= written
