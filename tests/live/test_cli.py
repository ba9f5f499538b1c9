"""``leaktrace watch`` end to end on a Zeek folder (no capture, no firewall): ingest, analyse, print, policy."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from typer.testing import CliRunner

import leaktrace.cli.live_cmds  # noqa: F401  (registers `watch` even before it is wired in COMMAND_MODULES)
from leaktrace.cli.app import app, load_commands
from leaktrace.workspace import Workspace
from tests.zeekgen import CONN_FIELDS, CONN_TYPES, header


def big_upload(ts: float) -> str:
    return "\t".join([f"{ts:.6f}", "Cbig0001", "10.1.0.5", "40001", "203.0.113.7", "443", "tcp", "ssl",
                      "600.0", "40000000", "20000", "SF", "T", "F", "0", "ShADadFf", "30000", "41000000",
                      "15000", "800000", "(empty)"]) + "\n"


load_commands()


def test_watch_zeek_dir_reports_an_incident(ws: Workspace, tmp_path: Path) -> None:
    logs = tmp_path / "zeek"
    logs.mkdir()
    conn = logs / "conn.log"
    conn.write_text(header("conn", CONN_FIELDS, CONN_TYPES))

    def later() -> None:  # the upload is logged while watch runs
        time.sleep(1.0)
        with conn.open("a") as f:
            f.write(big_upload(1_700_000_000.0))

    threading.Thread(target=later, daemon=True).start()
    result = CliRunner().invoke(app, ["watch", "-w", str(ws.root), "--zeek-dir", str(logs), "--interval", "0.3",
                                      "--duration", "4", "-v"])
    assert result.exit_code == 0, result.output
    assert "watching zeek" in result.output and "policy: suggest" in result.output
    assert "NEW INC-0001" in result.output and "10.1.0.5 → 203.0.113.7" in result.output
    assert "stopped after" in result.output


def test_watch_needs_a_source(ws: Workspace) -> None:
    result = CliRunner().invoke(app, ["watch", "-w", str(ws.root)])
    assert result.exit_code != 0
