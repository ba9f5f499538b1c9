"""The CLI is thin: init, ingest and stats through Typer, with JSON output and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from leaktrace.cli.app import app, load_commands
from tests.zeekgen import conn_log

load_commands()
runner = CliRunner()


def test_init_ingest_stats(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    r = runner.invoke(app, ["init", "-w", str(ws), "--internal", "10.0.0.0/8", "--tenant", "mof"])
    assert r.exit_code == 0, r.output
    log = tmp_path / "conn.log"
    log.write_text(conn_log(25).replace("#close", "garbage\n#close"))
    r = runner.invoke(app, ["ingest", "-w", str(ws), str(log)])
    assert r.exit_code == 0, r.output
    assert "quarantined" in r.output and "line 34" in r.output
    r = runner.invoke(app, ["stats", "-w", str(ws), "--json"])
    data = json.loads(r.output)
    assert data["tables"] == {"conn": 25}
    assert data["quarantined"] == 1
    assert data["tenants"] == ["mof"]
    r = runner.invoke(app, ["ingest", "-w", str(ws), str(log), "--json"])
    assert json.loads(r.output)["sources"][0]["status"] == "already-ingested"


def test_workspace_from_environment(tmp_path: Path, monkeypatch: object) -> None:
    ws = tmp_path / "ws"
    runner.invoke(app, ["init", "-w", str(ws)])
    r = runner.invoke(app, ["stats", "--json"], env={"LEAKTRACE_WORKSPACE": str(ws)})
    assert r.exit_code == 0 and json.loads(r.output)["tables"] == {}
