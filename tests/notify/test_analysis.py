"""End to end: analysis opens an incident, the webhook receiver gets it signed; a target that is down fails
without failing the analysis; re-runs send nothing twice; an escalation is sent; the CLI over the record."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from typer.testing import CliRunner

from leaktrace.cli.app import app, load_commands
from leaktrace.incidents import analyze
from leaktrace.lake import Lake
from leaktrace.notify.channels.webhook import verify_signature
from leaktrace.notify.record import NotificationRecord
from leaktrace.workspace import Workspace
from tests.detect.helpers import flow, table
from tests.notify.conftest import SECRET, WebhookReceiver, free_port


def write(ws: Workspace, key: str, rows: list[dict]) -> None:
    lake = Lake(ws.lake_dir)
    batch = lake.stage("default", key, key, "test")
    batch.write("conn", "2026-03-02", table("conn", rows))
    assert lake.commit(batch)


def beaconing() -> list[dict]:
    rnd = random.Random(2)
    rows, t = [], 0.0
    while t < 10 * 3600:
        rows.append(flow("10.0.0.5", "203.0.113.9", t, out=220, inn=500))
        t += 60 * rnd.uniform(0.8, 1.2)
    return rows


def workspace(tmp_path: Path, hook_url: str) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    down = f"http://127.0.0.1:{free_port()}/down"
    cfg = ws.root / "leaktrace.toml"
    cfg.write_text(
        cfg.read_text(encoding="utf-8")
        + f"""
[notify]
base_url = "https://leaktrace.centre.example"

[notify.retry]
attempts = 2
initial_backoff_s = 0.0

[[notify.targets]]
name = "soc"
channel = "webhook"
tenants = ["default"]
min_severity = "low"
options = {{ url = "{hook_url}", secret = "{SECRET}" }}

[[notify.targets]]
name = "down"
channel = "webhook"
min_severity = "low"
options = {{ url = "{down}", secret = "x" }}
""",
        encoding="utf-8",
    )
    return Workspace.open(ws.root)


def test_analysis_notifies(tmp_path: Path, webhook: WebhookReceiver) -> None:
    ws = workspace(tmp_path, webhook.url)
    write(ws, "a", beaconing())
    first = analyze(ws)  # the unreachable target does not fail the analysis
    assert first.mode == "full" and first.incidents
    top = next(i for i in first.incidents if (i.host_ip, i.server_ip) == ("10.0.0.5", "203.0.113.9"))
    by_target = {(o.target, o.incident_id): o for o in first.notifications}
    assert by_target[("soc", top.id)].status == "sent"
    assert by_target[("down", top.id)].status == "failed" and by_target[("down", top.id)].attempts == 2
    bodies = {json.loads(b)["incident"]["id"]: (h, b) for h, b in webhook.received}
    headers, body = bodies[top.id]
    assert verify_signature(SECRET, headers["X-Leaktrace-Timestamp"], body, headers["X-Leaktrace-Signature"],
                            300, now=time.time())  # fmt: skip
    doc = json.loads(body)
    assert doc["event"] == "opened" and doc["incident"]["host"]["ip"] == "10.0.0.5"
    assert doc["incident"]["severity"] == top.severity and doc["incident"]["tenant"] == "default"
    assert doc["incident"]["link"] == f"https://leaktrace.centre.example/incidents/{top.id}"

    # nothing new: nothing sent
    count = len(webhook.received)
    assert analyze(ws).notifications == [] and len(webhook.received) == count

    # the same host uploads 15 MB to its C2: the incident escalates
    write(ws, "b", [flow("10.0.0.5", "203.0.113.9", 11 * 3600, out=15_000_000, inn=20_000)])
    third = analyze(ws)
    assert third.mode == "incremental"
    esc = [o for o in third.notifications if o.target == "soc" and o.incident_id == top.id]
    assert top.severity != "critical"  # the beaconing alone is not critical (the data is built so)
    assert [(o.event, o.severity, o.status) for o in esc] == [("escalated", "critical", "sent")]
    assert json.loads(webhook.received[-1][1])["incident"]["previous_severity"] == top.severity

    rows = NotificationRecord.for_workspace(ws).list(incident_id=top.id)
    assert {(r.target, r.status) for r in rows} >= {("soc", "sent"), ("down", "failed")}

    # CLI
    load_commands()
    runner = CliRunner()
    out = runner.invoke(app, ["notifications", "-w", str(ws.root), "--json", "--incident", top.id])
    assert out.exit_code == 0, out.output
    listed = json.loads(out.output)
    assert {r["target"] for r in listed} == {"soc", "down"} and all(
        SECRET not in json.dumps(r) for r in listed
    )
    table_out = runner.invoke(app, ["notifications", "-w", str(ws.root)], env={"COLUMNS": "200"})
    assert table_out.exit_code == 0 and top.id in table_out.output
    dup = runner.invoke(
        app, ["notify", "send", "-w", str(ws.root), top.id, "-t", "soc", "--event", "escalated"]
    )
    assert dup.exit_code == 0 and "duplicate" in dup.output  # the escalation to critical was sent above
    forced = runner.invoke(app, ["notify", "send", "-w", str(ws.root), top.id, "--target", "soc", "--force"])
    assert forced.exit_code == 0 and "sent" in forced.output
    failed = runner.invoke(app, ["notify", "send", "-w", str(ws.root), top.id, "--target", "down"])
    assert failed.exit_code == 1 and "failed" in failed.output
    test = runner.invoke(app, ["notify", "test", "-w", str(ws.root), "soc"])
    assert test.exit_code == 0, test.output
    assert json.loads(webhook.received[-1][1])["event"] == "test"
    assert runner.invoke(app, ["notify", "test", "-w", str(ws.root), "nope"]).exit_code != 0


def test_no_targets_no_record(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    write(ws, "a", beaconing())
    res = analyze(ws)
    assert res.incidents and res.notifications == []
    assert NotificationRecord.for_workspace(ws).list() == []
