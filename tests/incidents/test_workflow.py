"""analyze (full, then incremental), tip, intel add with retro-hunt, and the CLI, over a tiny lake."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "detect"))
from helpers import flow, table  # noqa: E402

from leaktrace.cli.app import app, load_commands  # noqa: E402
from leaktrace.incidents import analyze  # noqa: E402
from leaktrace.incidents.tip import tip  # noqa: E402
from leaktrace.lake import Lake  # noqa: E402
from leaktrace.workspace import Workspace  # noqa: E402


def write(ws: Workspace, key: str, rows: list[dict], name: str = "conn") -> None:
    lake = Lake(ws.lake_dir)
    batch = lake.stage("default", key, key, "test")
    batch.write(name, "2026-03-02", table(name, rows))
    assert lake.commit(batch)


def day_one() -> list[dict]:
    rnd = random.Random(2)
    rows = []
    t = 0.0
    while t < 10 * 3600:
        rows.append(flow("10.0.0.5", "203.0.113.9", t, out=220, inn=500))
        t += 60 * rnd.uniform(0.8, 1.2)
    for h in range(1, 30):
        rows.append(flow(f"10.0.1.{h}", "198.51.100.1", rnd.uniform(0, 36_000), out=30_000))
    return rows


def test_full_then_incremental_then_tip_and_cli(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    write(ws, "a", day_one())
    full = analyze(ws)
    assert full.mode == "full" and full.incidents
    first = {(i.host_ip, i.server_ip): i.id for i in full.incidents}
    assert ("10.0.0.5", "203.0.113.9") in first
    # one new hour: the same host uploads 15 MB to its C2
    write(ws, "b", [flow("10.0.0.5", "203.0.113.9", 11 * 3600, out=15_000_000, inn=20_000)])
    inc = analyze(ws)
    assert inc.mode == "incremental" and inc.since is not None and inc.since.hour == 11
    top = inc.incidents[0]
    assert (top.host_ip, top.server_ip) == ("10.0.0.5", "203.0.113.9")
    assert top.id == first[("10.0.0.5", "203.0.113.9")]  # the id survived re-analysis
    assert top.severity == "critical" and set(top.kinds) >= {"beaconing", "exfiltration"}
    assert analyze(ws).mode == "unchanged"
    # a tip about a server nobody flagged
    rep = tip(ws, "198.51.100.1", host="10.0.1.3")
    assert [h.host for h in rep.hosts] == ["10.0.1.3"] and rep.hosts[0].incident
    # CLI
    load_commands()
    runner = CliRunner()
    out = runner.invoke(app, ["incidents", "-w", str(ws.root), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {
        "id",
        "host",
        "server",
        "start",
        "end",
        "severity",
        "score",
        "kinds",
        "bytes_out",
        "findings",
    } <= set(data[0])
    assert data[0]["host"]["ip"] == "10.0.0.5" and data[0]["server"]["ip"] == "203.0.113.9"
    shown = runner.invoke(app, ["show", "-w", str(ws.root), top.id])
    assert shown.exit_code == 0 and "Timeline" in shown.output and "Why this score" in shown.output
    ind = tmp_path / "iocs.txt"
    ind.write_text("198.51.100.1\n")
    added = runner.invoke(app, ["intel", "add", "-w", str(ws.root), str(ind)])
    assert added.exit_code == 0 and "29 matches" in added.output, added.output
    fb = runner.invoke(
        app, ["feedback", "-w", str(ws.root), rep.hosts[0].incident, "benign", "--note", "cdn"]
    )
    assert fb.exit_code == 0, fb.output
    assert runner.invoke(app, ["detectors"]).exit_code == 0
